import fs from 'node:fs';
import { once } from 'node:events';
import type { Database } from '../db/database.ts';
import { validationError } from '../errors.ts';
import { rehashStored, toBuffer } from './chain.ts';
import { verifyCheckpointSignature } from './checkpoint-signer.ts';
import type { CheckpointService, InclusionProof } from './checkpoint.service.ts';
import { parseCheckpoint, readCheckpointFile, verifyDatabaseLog, verifyExportFile, type VerifyResult } from './audit-verify.ts';
import { readEntries, toExported, withAuditSnapshot } from './entry-source.ts';
import { rootFromInclusionPath } from './merkle.ts';

/** Sink for the report lines of a command (standard output in the CLI). */
export type Output = (line: string) => void;

const DATABASE_FAILED_NEXT_STEPS =
  'Leave the database as it is and report a security incident. To see what the entries named above held, compare them ' +
  'with an earlier "civic audit export" file or a backup.';
const FILE_FAILED_NEXT_STEPS =
  'This file is not the log as it was exported. Compare it with the copy it came from, or write a new export with ' +
  '"civic audit export" and check that.';

/** Writes a verification report and returns the exit status: 0 when intact, 1 when any problem was found. */
export function reportVerification(result: VerifyResult, out: Output): number {
  const range = result.firstId === null ? 'no entries' : `entries ${result.firstId} to ${result.lastId} (${result.checked} checked)`;
  out(`Checked ${range}, ${result.checkpointsChecked} checkpoint${result.checkpointsChecked === 1 ? '' : 's'}.`);
  for (const problem of result.problems) out(problem.message);
  if (result.problemCount > result.problems.length) out(`… and ${result.problemCount - result.problems.length} more problems.`);
  if (result.problemCount > 0) {
    out(`The audit log failed verification: ${result.problemCount} problem${result.problemCount === 1 ? '' : 's'}.`);
    out(result.headSize === null ? FILE_FAILED_NEXT_STEPS : DATABASE_FAILED_NEXT_STEPS);
    return 1;
  }
  const root = result.root === null ? '' : ` Merkle root ${result.root.toString('hex')}.`;
  out(`The audit log is intact.${root}`);
  return 0;
}

export interface VerifyCommandOptions {
  fromId?: number;
  toId?: number;
  checkpointFile?: string;
  exportFile?: string;
  publicKey: Buffer;
}

/** Runs `civic audit verify` against the database, or against an export file when one is given. */
export async function runVerify(db: Database | null, options: VerifyCommandOptions, out: Output): Promise<number> {
  const checkpoints = options.checkpointFile === undefined ? [] : readCheckpointFile(options.checkpointFile);
  const verifyOptions = { fromId: options.fromId, toId: options.toId, checkpoints, publicKey: options.publicKey };
  if (options.exportFile !== undefined) return reportVerification(await verifyExportFile(options.exportFile, verifyOptions), out);
  if (db === null) throw new Error('A database is needed to verify without --file.');
  return reportVerification(await verifyDatabaseLog(db, verifyOptions), out);
}

/**
 * Writes the log as JSON Lines, one entry per line with hashes in hex, and returns the number of entries written.
 * Throws, and removes the file, when the range contains no entries, because `civic audit verify --file` rejects an
 * empty export.
 */
export async function exportLog(db: Database, file: string, range: { fromId: number; toId?: number }): Promise<number> {
  // Opened here, so a wrong path or an existing file fails at once with its own error, before the log is read.
  const stream = fs.createWriteStream(file, { encoding: 'utf8', fd: fs.openSync(file, 'wx') });
  let count = 0;
  let headSize = 0;
  try {
    await withAuditSnapshot(db, async (raw) => {
      const head = await raw.query<{ size: number }>('select size from audit_chain_head where id');
      headSize = Number(head.rows[0]?.size ?? 0);
      for await (const entry of readEntries(raw, db.engine, range)) {
        if (!stream.write(`${JSON.stringify(toExported(entry))}\n`)) await once(stream, 'drain');
        count += 1;
      }
    });
  } finally {
    stream.end();
    await once(stream, 'finish');
  }
  if (count === 0) {
    fs.rmSync(file);
    const requested = range.toId === undefined ? `from entry ${range.fromId}` : `from entry ${range.fromId} to ${range.toId}`;
    const end = headSize === 0 ? 'The audit log is empty.' : `The log ends at entry ${headSize}; give --from and --to between 1 and ${headSize}.`;
    throw validationError('export_range_empty', `The audit log has no entries ${requested}, so ${file} was not written. ${end}`);
  }
  return count;
}

/**
 * Checks an inclusion proof: the entry's stored fields hash to the proof's entry hash, the audit path leads to the
 * checkpoint's root, and the checkpoint's signature verifies. Returns the problems found (none when valid).
 */
export async function checkProof(db: Database, proof: InclusionProof, publicKey: Buffer): Promise<string[]> {
  const problems: string[] = [];
  const entry = await withAuditSnapshot(db, async (raw) => {
    for await (const stored of readEntries(raw, db.engine, { fromId: proof.entryId, toId: proof.entryId })) return stored;
    return null;
  });
  if (entry === null) {
    problems.push(`entry ${proof.entryId} is missing from the database`);
  } else {
    const proofHash = Buffer.from(proof.entryHash, 'hex');
    if (!rehashStored(entry.prevHash, entry.fields, proofHash).equals(proofHash)) {
      problems.push(`entry ${proof.entryId} was altered: its fields do not hash to the proof's entry hash`);
    }
  }
  const checkpoint = parseCheckpoint(proof.checkpoint, `checkpoint ${proof.treeSize}`);
  const rootHash = Buffer.from(checkpoint.rootHash, 'hex');
  const signed = verifyCheckpointSignature({ treeSize: checkpoint.treeSize, rootHash, createdAt: new Date(checkpoint.createdAt) }, Buffer.from(checkpoint.signature, 'base64'), publicKey);
  if (!signed) problems.push(`checkpoint ${checkpoint.treeSize} has an invalid signature`);
  const path = proof.auditPath.map((hex) => toBuffer(hex));
  const root = rootFromInclusionPath(Buffer.from(proof.entryHash, 'hex'), proof.entryId - 1, checkpoint.treeSize, path);
  if (root === null || !root.equals(rootHash)) problems.push(`the audit path of entry ${proof.entryId} does not lead to the root of checkpoint ${checkpoint.treeSize}`);
  return problems;
}

/** Runs `civic audit prove`: builds (or fetches) the proof, checks it and reports. */
export async function runProve(db: Database, checkpoints: CheckpointService, entryId: number, options: { treeSize?: number; proof?: InclusionProof; publicKey: Buffer }, out: Output): Promise<number> {
  const proof = options.proof ?? (await checkpoints.inclusionProof(entryId, options.treeSize));
  const problems = await checkProof(db, proof, options.publicKey);
  out(`Entry ${proof.entryId}, leaf ${proof.leafIndex} of checkpoint ${proof.treeSize} (root ${proof.checkpoint.rootHash}), audit path of ${proof.auditPath.length} hashes.`);
  for (const problem of problems) out(problem);
  if (problems.length > 0) {
    out(`The inclusion proof of entry ${entryId} failed.`);
    return 1;
  }
  out(`Entry ${entryId} is included in the signed checkpoint of size ${proof.treeSize}.`);
  return 0;
}
