import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { hashStoredEntry, type ChainVerifier, type EntryBatch } from './chain-verifier.ts';
import { HASH_BYTES } from './chain.ts';
import { splitLines, parseCopyLine } from './entry-source.ts';
import { unpackBatch, unpackEntry, type PackedBatch } from './hash-batch.ts';

/** Bytes of COPY text sent to a worker at a time: big enough that messaging costs little per entry. */
const BATCH_BYTES = 512 * 1024;

export interface HashOptions {
  /** Worker threads; 0 parses and hashes on the calling thread. */
  threads: number;
  /** Bytes of COPY text per batch sent to a worker (`BATCH_BYTES` unless a test sets it). */
  batchBytes?: number;
}

/** Batches in flight per worker: enough to keep each busy while the main thread checks the previous results. */
const QUEUE_PER_WORKER = 2;

/** Entries below which starting worker threads costs more than it saves. */
export const PARALLEL_THRESHOLD = 50_000;

/** Worker threads for a verification of `entries` entries: none for short logs, else one per core up to four. */
export function defaultThreads(entries: number): number {
  return entries < PARALLEL_THRESHOLD ? 0 : Math.min(4, os.availableParallelism());
}

interface WorkerReply {
  sequence: number;
  batch?: PackedBatch;
  error?: string;
}

/** Worker threads that hash batches of COPY lines, resolving one promise per batch. */
class HashPool {
  readonly #workers: Worker[];
  readonly #waiting = new Map<number, { resolve: (batch: PackedBatch) => void; reject: (error: Error) => void }>();
  #sequence = 0;

  constructor(threads: number, checkpointSizes: readonly number[]) {
    this.#workers = Array.from({ length: threads }, () => {
      // No inherited `--import` flags: the bootstrap file loads TypeScript support itself.
      const worker = new Worker(new URL('./hash-worker.mjs', import.meta.url), { execArgv: [], workerData: { checkpointSizes } });
      worker.on('message', (reply: WorkerReply) => this.#settle(reply));
      worker.on('error', (error) => this.#failAll(error));
      return worker;
    });
  }

  hash(bytes: Uint8Array<ArrayBuffer>): Promise<PackedBatch> {
    const sequence = this.#sequence;
    this.#sequence += 1;
    const promise = new Promise<PackedBatch>((resolve, reject) => this.#waiting.set(sequence, { resolve, reject }));
    this.#workers[sequence % this.#workers.length]!.postMessage({ sequence, bytes }, [bytes.buffer]);
    return promise;
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }

  #settle(reply: WorkerReply): void {
    const waiting = this.#waiting.get(reply.sequence);
    if (waiting === undefined) return;
    this.#waiting.delete(reply.sequence);
    if (reply.batch !== undefined) waiting.resolve(reply.batch);
    else waiting.reject(new Error(reply.error ?? 'A worker thread checking the audit log gave no result.'));
  }

  #failAll(error: Error): void {
    for (const waiting of this.#waiting.values()) waiting.reject(error);
    this.#waiting.clear();
  }
}

/** Copies `parts` into one buffer of its own, which can be transferred to a worker. */
function joinOwned(parts: readonly Buffer[], length: number): Uint8Array<ArrayBuffer> {
  const joined = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    joined.set(part, offset);
    offset += part.length;
  }
  return joined;
}

/** Cuts a stream of COPY text into batches of whole lines of about `batchBytes` each. */
async function* lineBatches(chunks: AsyncIterable<Buffer>, batchBytes: number): AsyncGenerator<Uint8Array<ArrayBuffer>> {
  let parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    const lastFeed = chunk.lastIndexOf(0x0a);
    if (lastFeed === -1 || length + lastFeed + 1 < batchBytes) {
      parts.push(chunk);
      length += chunk.length;
      continue;
    }
    parts.push(chunk.subarray(0, lastFeed + 1));
    yield joinOwned(parts, length + lastFeed + 1);
    const rest = chunk.subarray(lastFeed + 1);
    parts = rest.length > 0 ? [rest] : [];
    length = rest.length;
  }
  if (length > 0) yield joinOwned(parts, length);
}

/** Wraps a packed batch for the verifier. */
function toEntryBatch(batch: PackedBatch): EntryBatch {
  const { run } = batch;
  const roots = run === null ? null : Buffer.from(run.roots.buffer, run.roots.byteOffset, run.roots.byteLength);
  return {
    first: unpackEntry(batch, 0),
    lastId: batch.ids[batch.ids.length - 1]!,
    count: batch.ids.length,
    run:
      run === null || roots === null
        ? null
        : {
            lastHash: Buffer.from(run.lastHash.buffer, run.lastHash.byteOffset, run.lastHash.byteLength),
            subtrees: Array.from(run.heights, (height, index) => ({ height, root: roots.subarray(index * HASH_BYTES, (index + 1) * HASH_BYTES) })),
          },
    entries: () => unpackBatch(batch),
  };
}

/**
 * Parses and hashes the entries of a COPY text stream and passes them to `verifier` in order. With `threads` above 0
 * the parsing and hashing, and the Merkle subtrees of regular batches, run on that many worker threads, a batch of
 * lines at a time, while this thread checks the results of earlier batches.
 */
export async function verifyEntryText(chunks: AsyncIterable<Buffer>, verifier: ChainVerifier, options: HashOptions): Promise<void> {
  const { threads } = options;
  if (threads <= 0) {
    for await (const line of splitLines(chunks)) verifier.push(hashStoredEntry(parseCopyLine(line)));
    return;
  }
  const pool = new HashPool(threads, verifier.checkpointSizes);
  const inFlight: Promise<PackedBatch>[] = [];
  const take = async () => {
    const batch = await inFlight.shift()!;
    if (batch.ids.length > 0) verifier.pushBatch(toEntryBatch(batch));
  };
  try {
    for await (const bytes of lineBatches(chunks, options.batchBytes ?? BATCH_BYTES)) {
      const batch = pool.hash(bytes);
      // Marked as handled at once, because a batch can fail while earlier ones are still awaited. It is awaited in its turn.
      batch.catch(() => undefined);
      inFlight.push(batch);
      if (inFlight.length >= threads * QUEUE_PER_WORKER) await take();
    }
    while (inFlight.length > 0) await take();
  } finally {
    await pool.close();
  }
}
