import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalDetails, entryHash, GENESIS_HASH, type ChainFields } from './chain.ts';
import { hashPlainLine } from './copy-line-hash.ts';

const FIELDS: ChainFields = {
  occurredAt: '2026-12-04T10:00:01.123456Z',
  organisationId: '6f1d2c3b-0000-4000-8000-000000000001',
  actorUserId: null,
  actorKind: 'system',
  action: 'exchange.release',
  subjectType: 'disclosure',
  subjectId: 'é-caf✓',
  requestId: 'req-1',
  details: { rowCount: 12, purpose: 'direct_care', note: 'ünïcode ✓' },
};

/** Writes a COPY text line for `fields` as the verifier's query returns it. */
function copyLine(fields: ChainFields, id = 7): Buffer {
  const text = (value: string | null) => (value === null ? '\\N' : value.replaceAll('\\', '\\\\').replaceAll('\t', '\\t').replaceAll('\n', '\\n'));
  const hash = entryHash(GENESIS_HASH, fields);
  const values = [String(id), fields.occurredAt, fields.organisationId, fields.actorUserId, fields.actorKind, fields.action, fields.subjectType, fields.subjectId, fields.requestId, canonicalDetails(fields.details), GENESIS_HASH.toString('hex'), hash.toString('hex')];
  return Buffer.from(values.map(text).join('\t'), 'utf8');
}

describe('hashing a COPY line from its bytes', () => {
  it('matches the entry hash', () => {
    const target = new Uint8Array(64);
    const result = hashPlainLine(copyLine(FIELDS), target, 0);
    assert.notEqual(result, null);
    assert.equal(result!.id, 7);
    assert.deepEqual(result!.computedHash, entryHash(GENESIS_HASH, FIELDS));
    assert.deepEqual(Buffer.from(target.subarray(32, 64)), entryHash(GENESIS_HASH, FIELDS));
  });

  it('leaves escaped fields to the text path', () => {
    assert.equal(hashPlainLine(copyLine({ ...FIELDS, requestId: 'tab\there' }), new Uint8Array(64), 0), null);
    assert.equal(hashPlainLine(copyLine({ ...FIELDS, subjectId: 'say "hello"' }), new Uint8Array(64), 0), null);
    assert.equal(hashPlainLine(copyLine({ ...FIELDS, details: { note: 'back\\slash' } }), new Uint8Array(64), 0), null);
  });

  it('rejects malformed lines', () => {
    const line = copyLine(FIELDS).toString('utf8');
    assert.equal(hashPlainLine(Buffer.from(line.split('\t').slice(0, 11).join('\t')), new Uint8Array(64), 0), null);
    assert.equal(hashPlainLine(Buffer.from(`${line}\textra`), new Uint8Array(64), 0), null);
    assert.equal(hashPlainLine(Buffer.from(line.replace(/^7/, 'x')), new Uint8Array(64), 0), null);
    assert.equal(hashPlainLine(Buffer.from(line.replace(/[0-9a-f]{64}$/, 'zz'.repeat(32))), new Uint8Array(64), 0), null);
  });
});
