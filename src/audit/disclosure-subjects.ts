import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/schema.ts';

/** Subject hashes per INSERT into disclosure_subjects, sent as one array parameter. */
const SUBJECT_INSERT_BATCH = 5000;

/** SHA-256 over the sorted subject hashes, so the audit entry commits to exactly who was in the release. */
export function subjectsDigest(hashes: readonly Buffer[]): string {
  const digest = createHash('sha256');
  for (const hash of [...hashes].sort(Buffer.compare)) digest.update(hash);
  return digest.digest('hex');
}

/** Inserts the keyed subject hashes of one disclosure. */
export async function insertSubjectHashes(
  trx: Kysely<DB>,
  disclosure: { disclosureId: string; organisationId: string; recipientOrganisationId: string },
  hashes: readonly Buffer[],
): Promise<void> {
  // One statement with one array parameter per batch: a multi-row VALUES list would bind four parameters per subject,
  // and building and parsing that statement cost more than the insert itself.
  for (let start = 0; start < hashes.length; start += SUBJECT_INSERT_BATCH) {
    const batch = hashes.slice(start, start + SUBJECT_INSERT_BATCH).map((subjectHash) => subjectHash.toString('hex'));
    await sql`
      insert into disclosure_subjects (disclosure_id, subject_hash, organisation_id, recipient_organisation_id)
      select ${disclosure.disclosureId}::uuid, decode(hash, 'hex'), ${disclosure.organisationId}::uuid, ${disclosure.recipientOrganisationId}::uuid
      from unnest(${batch}::text[]) as hash`.execute(trx);
  }
}
