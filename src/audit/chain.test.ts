import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalDetails, encodeEntry, entryHash, GENESIS_HASH, rehashStored, StoredFields, type ChainFields } from './chain.ts';

const FIELDS: ChainFields = {
  occurredAt: '2026-12-04T10:00:01.123456Z',
  organisationId: '6f1d2c3b-0000-4000-8000-000000000001',
  actorUserId: null,
  actorKind: 'user',
  action: 'agreement.approved',
  subjectType: 'agreement',
  subjectId: 'ISA-2026-001',
  requestId: 'req-1',
  details: { version: 2, comment: 'Approved "as drafted" \\ é ✓\n', nested: { z: [1, 2.5, null, true], a: 'x' } },
};

/** Builds the fields as the log reads them back, with the details as stored text. */
function stored(fields: ChainFields, detailsText: string): StoredFields {
  return new StoredFields(fields.occurredAt, fields.organisationId, fields.actorUserId, fields.actorKind, fields.action, fields.subjectType, fields.subjectId, fields.requestId, detailsText);
}

describe('audit entry encoding', () => {
  it('keeps the published hash', () => {
    // Computed when the encoding was first released; a change here would break every existing chain.
    assert.equal(entryHash(GENESIS_HASH, FIELDS).toString('hex'), 'd8900a74f59790c6f3df3fb6d2a2754060597a9bae4fad5bc85e758272f63e31');
  });

  it('matches JSON.stringify for awkward strings', () => {
    const awkward = { ...FIELDS, actorUserId: 'a"b\\c\u2028\u0001é', subjectId: '', requestId: 'r~ \x7f' };
    const array = ['civic-audit-v1', awkward.occurredAt, awkward.organisationId, awkward.actorUserId, awkward.actorKind, awkward.action, awkward.subjectType, awkward.subjectId, awkward.requestId, JSON.parse(canonicalDetails(awkward.details))];
    assert.equal(encodeEntry(awkward).toString('utf8'), JSON.stringify(array));
  });

  it('hashes stored canonical text as is', () => {
    const hash = entryHash(GENESIS_HASH, FIELDS);
    const fields = stored(FIELDS, canonicalDetails(FIELDS.details));
    assert.deepEqual(rehashStored(GENESIS_HASH, fields, hash), hash);
  });

  it('re-encodes another rendering of the details', () => {
    const hash = entryHash(GENESIS_HASH, FIELDS);
    const spaced = JSON.stringify(FIELDS.details, null, 1);
    assert.deepEqual(rehashStored(GENESIS_HASH, stored(FIELDS, spaced), hash), hash);
  });

  it('gives a different hash for altered details', () => {
    const hash = entryHash(GENESIS_HASH, FIELDS);
    const altered = canonicalDetails({ ...(FIELDS.details as object), version: 3 });
    assert.notDeepEqual(rehashStored(GENESIS_HASH, stored(FIELDS, altered), hash), hash);
  });
});
