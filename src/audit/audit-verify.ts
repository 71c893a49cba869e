import fs from 'node:fs';
import { conflict, validationError } from '../errors.ts';
import type { Database } from '../db/database.ts';
import type { RawConnection } from '../db/connection.ts';
import { GENESIS_HASH, toBuffer } from './chain.ts';
import { ChainVerifier, hashStoredEntry, type ChainProblem, type ChainReport, type ExpectedRoot, type HashedEntry, type StoredEntry } from './chain-verifier.ts';
import { verifyCheckpointSignature } from './checkpoint-signer.ts';
import type { PublishedCheckpoint } from './checkpoint.types.ts';
import { readEntryCopy, readExportFile, withAuditSnapshot } from './entry-source.ts';
import { defaultThreads, verifyEntryCopy } from './hash-pool.ts';

export interface VerifyOptions {
  fromId?: number;
  toId?: number;
  /** Checkpoints to check besides those stored in the database, such as one saved from the API earlier. */
  checkpoints?: readonly { checkpoint: PublishedCheckpoint; label: string }[];
  /** Raw Ed25519 key that checkpoint signatures must verify with. */
  publicKey: Buffer;
  /** Worker threads that parse and hash entries; by default none for short logs and one per core for long ones. */
  threads?: number;
  /** Bytes of COPY rows per batch, when not the default (tests use small batches). */
  batchBytes?: number;
}

export interface VerifyResult extends ChainReport {
  /** Size recorded by the chain head; null when checking an export file. */
  headSize: number | null;
  checkpointsChecked: number;
}

/** Builds the error for an unreadable checkpoint, which comes from the user's file or a server's reply, with the fix. */
function invalidCheckpoint(message: string) {
  return validationError('checkpoint_invalid', `${message} Give a checkpoint saved from /api/v1/audit/checkpoints.`);
}

/** Parses and checks one published checkpoint, throwing a message that names `label` when a field is invalid. */
export function parseCheckpoint(value: unknown, label: string): PublishedCheckpoint {
  const checkpoint = value as Partial<PublishedCheckpoint> | null;
  if (checkpoint === null || typeof checkpoint !== 'object') throw invalidCheckpoint(`${label} is not a JSON object.`);
  if (!Number.isSafeInteger(checkpoint.treeSize) || (checkpoint.treeSize as number) < 1) throw invalidCheckpoint(`${label} has no valid "treeSize" (a whole number from 1).`);
  if (typeof checkpoint.rootHash !== 'string' || !/^[0-9a-f]{64}$/.test(checkpoint.rootHash)) throw invalidCheckpoint(`${label} has no valid "rootHash" (64 hexadecimal digits).`);
  if (typeof checkpoint.createdAt !== 'string' || Number.isNaN(Date.parse(checkpoint.createdAt))) throw invalidCheckpoint(`${label} has no valid "createdAt" time.`);
  if (typeof checkpoint.signature !== 'string' || checkpoint.signature === '') throw invalidCheckpoint(`${label} has no "signature".`);
  return { treeSize: checkpoint.treeSize as number, rootHash: checkpoint.rootHash, createdAt: checkpoint.createdAt, keyId: String(checkpoint.keyId ?? ''), algorithm: 'Ed25519', signature: checkpoint.signature };
}

/** Reads a checkpoint file: one checkpoint object, or the list the checkpoints API returns. */
export function readCheckpointFile(file: string): { checkpoint: PublishedCheckpoint; label: string }[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw validationError('checkpoint_file_invalid', `Cannot read the checkpoint file ${file}: ${(error as Error).message}. Give a checkpoint saved from /api/v1/audit/checkpoints.`);
  }
  const list = (parsed as { checkpoints?: unknown }).checkpoints;
  const items = Array.isArray(list) ? list : [parsed];
  return items.map((item, index) => {
    const label = items.length === 1 ? `checkpoint ${file}` : `checkpoint ${index + 1} of ${file}`;
    return { checkpoint: parseCheckpoint(item, label), label };
  });
}

/** Checks signatures and turns valid checkpoints into roots for the verifier; bad signatures become problems. */
function checkSignatures(checkpoints: readonly { checkpoint: PublishedCheckpoint; label: string }[], publicKey: Buffer): { roots: ExpectedRoot[]; problems: ChainProblem[] } {
  const roots: ExpectedRoot[] = [];
  const problems: ChainProblem[] = [];
  for (const { checkpoint, label } of checkpoints) {
    const rootHash = Buffer.from(checkpoint.rootHash, 'hex');
    const body = { treeSize: checkpoint.treeSize, rootHash, createdAt: new Date(checkpoint.createdAt) };
    if (!verifyCheckpointSignature(body, Buffer.from(checkpoint.signature, 'base64'), publicKey)) {
      problems.push({ kind: 'checkpoint', entryId: checkpoint.treeSize, message: `${label} has an invalid signature` });
      continue;
    }
    roots.push({ treeSize: checkpoint.treeSize, rootHash, label });
  }
  return { roots, problems };
}

async function storedCheckpoints(raw: RawConnection): Promise<{ checkpoint: PublishedCheckpoint; label: string }[]> {
  const { rows } = await raw.query<{ tree_size: number; root_hash: Uint8Array; created_at: Date; key_id: string; signature: Uint8Array }>(
    'select tree_size, root_hash, created_at, key_id, signature from audit_checkpoints order by tree_size',
  );
  return rows.map((row) => ({
    label: `checkpoint ${Number(row.tree_size)}`,
    checkpoint: {
      treeSize: Number(row.tree_size),
      rootHash: toBuffer(row.root_hash).toString('hex'),
      createdAt: new Date(row.created_at).toISOString(),
      keyId: row.key_id,
      algorithm: 'Ed25519',
      signature: toBuffer(row.signature).toString('base64'),
    },
  }));
}

function mergeProblems(report: ChainReport, extra: ChainProblem[]): void {
  report.problems.unshift(...extra);
  report.problemCount += extra.length;
}

async function* hashed(entries: AsyncIterable<StoredEntry>): AsyncGenerator<HashedEntry> {
  for await (const entry of entries) yield hashStoredEntry(entry);
}

async function runVerifier(entries: AsyncIterable<HashedEntry>, verifier: ChainVerifier, headSize: number | undefined): Promise<ChainReport> {
  for await (const entry of entries) verifier.push(entry);
  return verifier.finish(headSize);
}

/**
 * Verifies the audit log in the database: every entry's hash and link in the range, gaps, the chain head, and every
 * stored checkpoint (signature, and root when the range starts at entry 1). Reads one snapshot in a single pass.
 */
export async function verifyDatabaseLog(db: Database, options: VerifyOptions): Promise<VerifyResult> {
  const fromId = options.fromId ?? 1;
  return withAuditSnapshot(db, async (raw) => {
    const head = await raw.query<{ size: number }>('select size from audit_chain_head where id');
    const headSize = Number(head.rows[0]?.size ?? 0);
    let previousHash: Buffer = GENESIS_HASH;
    if (fromId > 1 && fromId > headSize) {
      const end = headSize === 0 ? 'the audit log is empty' : `the audit log ends at entry ${headSize}. Give an entry id from 1 to ${headSize}`;
      throw validationError('range_after_log', `--from ${fromId} is after the last entry: ${end}.`);
    }
    if (fromId > 1) {
      const { rows } = await raw.query<{ entry_hash: Uint8Array }>(`select entry_hash from audit_log where id = ${fromId - 1}`);
      if (!rows[0]) throw conflict('range_start_missing', `Entry ${fromId - 1}, which the range starting at ${fromId} links to, is missing. Verify from entry 1 to see what is missing.`);
      previousHash = toBuffer(rows[0].entry_hash);
    }
    const checkpoints = [...(await storedCheckpoints(raw)), ...(options.checkpoints ?? [])];
    const { roots, problems } = checkSignatures(checkpoints, options.publicKey);
    const verifier = new ChainVerifier({ fromId, previousHash, expectedRoots: roots });
    const toEnd = options.toId === undefined || options.toId >= headSize;
    const lastId = options.toId === undefined ? headSize : Math.min(options.toId, headSize);
    const threads = options.threads ?? defaultThreads(lastId - fromId + 1);
    const copy = readEntryCopy(raw, db.engine, { fromId, toId: options.toId });
    await verifyEntryCopy(copy, verifier, { threads, batchBytes: options.batchBytes });
    const report = verifier.finish(toEnd ? headSize : undefined);
    mergeProblems(report, problems);
    return { ...report, headSize, checkpointsChecked: checkpoints.length };
  });
}

/** Verifies an export written by `civic audit export`, with no database: hashes, links, gaps and the given checkpoints. */
export async function verifyExportFile(file: string, options: VerifyOptions): Promise<VerifyResult> {
  if (!fs.existsSync(file)) throw validationError('export_file_missing', `The export file ${file} does not exist. Give the path of a file written by civic audit export.`);
  if (!fs.statSync(file).isFile()) throw validationError('export_file_invalid', `${file} is not a file. Give the path of a file written by civic audit export.`);
  const fromId = options.fromId ?? 1;
  const checkpoints = options.checkpoints ?? [];
  const { roots, problems } = checkSignatures(checkpoints, options.publicKey);
  let previousHash: Buffer = GENESIS_HASH;
  if (fromId > 1) {
    // The entry before the range is the trusted starting point; it must be in the file.
    for await (const entry of readExportFile(file, { fromId: fromId - 1, toId: fromId - 1 })) previousHash = entry.entryHash;
  }
  const verifier = new ChainVerifier({ fromId, previousHash, expectedRoots: roots });
  const report = await runVerifier(hashed(readExportFile(file, { fromId, toId: options.toId })), verifier, undefined);
  if (report.checked === 0 && report.problemCount === 0) {
    // An empty file, or a range outside it, would otherwise pass as an intact log.
    const range = options.toId === undefined ? `from entry ${fromId}` : `from entry ${fromId} to ${options.toId}`;
    throw validationError('export_file_empty', `The export file ${file} has no entries ${range}. Check the file, or the --from and --to values.`);
  }
  mergeProblems(report, problems);
  return { ...report, headSize: null, checkpointsChecked: checkpoints.length };
}
