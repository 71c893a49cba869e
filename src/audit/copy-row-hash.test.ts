import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryHash, GENESIS_HASH, type ChainFields } from './chain.ts';
import { formatMicros } from './copy-binary.ts';
import { encodeCopyRow } from './copy-binary.test-support.ts';
import { hashPlainRow } from './copy-row-hash.ts';
import { parseCopyRow } from './entry-source.ts';

const FIELDS: ChainFields = {
  occurredAt: '2026-12-04T10:00:01.123456Z',
  organisationId: '6f1d2c3b-0000-4000-8000-00000000000a',
  actorUserId: null,
  actorKind: 'system',
  action: 'exchange.release',
  subjectType: 'disclosure',
  subjectId: 'c0ffee-1',
  requestId: 'req-1',
  details: { rowCount: 12, purpose: 'direct_care', note: 'ünïcode ✓ "quoted" back\\slash' },
};

/** Encodes `fields` as the row with id `id`, linked to the genesis hash. */
function row(fields: ChainFields, id = 7): Buffer {
  return encodeCopyRow({ id, fields, prevHash: GENESIS_HASH, entryHash: entryHash(GENESIS_HASH, fields) });
}

function hashRow(bytes: Buffer, target = new Uint8Array(64)) {
  return hashPlainRow(bytes, 0, bytes.length, target, 0);
}

describe('hashing a binary COPY row from its bytes', () => {
  it('matches the entry hash, whatever the details hold', () => {
    const target = new Uint8Array(64);
    const result = hashRow(row(FIELDS), target);
    assert.notEqual(result, null);
    assert.equal(result!.id, 7);
    assert.deepEqual(result!.computedHash, entryHash(GENESIS_HASH, FIELDS));
    assert.deepEqual(Buffer.from(target.subarray(0, 32)), GENESIS_HASH);
    assert.deepEqual(Buffer.from(target.subarray(32, 64)), entryHash(GENESIS_HASH, FIELDS));
  });

  it('formats times across days, years and leap days as the appender did', () => {
    for (const occurredAt of ['1970-01-01T00:00:00.000000Z', '2024-02-29T23:59:59.999999Z', '2026-12-31T23:59:59.000001Z', '2255-01-01T00:00:00.000007Z']) {
      const fields = { ...FIELDS, occurredAt };
      assert.deepEqual(hashRow(row(fields))?.computedHash, entryHash(GENESIS_HASH, fields), occurredAt);
      assert.equal(parseCopyRow(row(fields), 0).fields.occurredAt, occurredAt);
    }
    // Before 1970 and after 2255 the string path formats the time, exactly.
    for (const occurredAt of ['1969-12-31T23:59:59.000000Z', '1900-02-28T12:00:00.500000Z', '9999-12-31T23:59:59.999999Z']) {
      assert.equal(hashRow(row({ ...FIELDS, occurredAt })), null, occurredAt);
      assert.equal(parseCopyRow(row({ ...FIELDS, occurredAt }), 0).fields.occurredAt, occurredAt);
    }
  });

  it('leaves escaped or non-ASCII text to strings', () => {
    for (const fields of [{ ...FIELDS, requestId: 'tab\there' }, { ...FIELDS, subjectId: 'say "hello"' }, { ...FIELDS, subjectId: 'é-caf✓' }]) {
      assert.equal(hashRow(row(fields)), null);
      const parsed = parseCopyRow(row(fields), 0);
      assert.deepEqual(parsed.fields.subjectId, fields.subjectId);
      assert.deepEqual(entryHash(GENESIS_HASH, parsed.fields), entryHash(GENESIS_HASH, fields));
    }
  });

  it('reads nulls and UUIDs back as they were', () => {
    const fields = { ...FIELDS, organisationId: null, actorUserId: '00ff00ff-1234-4abc-8def-0123456789ab', subjectId: null, requestId: null };
    assert.deepEqual(hashRow(row(fields))?.computedHash, entryHash(GENESIS_HASH, fields));
    const parsed = parseCopyRow(row(fields), 0);
    assert.equal(parsed.fields.organisationId, null);
    assert.equal(parsed.fields.actorUserId, fields.actorUserId);
    assert.equal(parsed.fields.requestId, null);
  });

  it('rejects malformed rows', () => {
    const good = row(FIELDS);
    const fewer = Buffer.from(good);
    fewer.writeInt16BE(11, 0);
    assert.equal(hashRow(fewer), null);
    assert.throws(() => parseCopyRow(fewer, 0), /11 fields instead of 12/);
    assert.equal(hashRow(good.subarray(0, good.length - 1)), null, 'a row cut short');
    assert.equal(hashRow(row(FIELDS, 0)), null, 'an id below 1');
  });

  it('formats infinite and far times', () => {
    assert.equal(formatMicros(2n ** 63n - 1n), 'infinity');
    assert.equal(formatMicros(-(2n ** 63n)), '-infinity');
    assert.match(formatMicros(9n * 10n ** 18n), /microseconds after 2000/);
  });
});
