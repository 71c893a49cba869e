import os from 'node:os';
import { Worker } from 'node:worker_threads';
import type { ChainVerifier, EntryBatch } from './chain-verifier.ts';
import { HASH_BYTES } from './chain.ts';
import { copyRowBatches } from './copy-binary.ts';
import { hashCopyRows, unpackBatch, unpackEntry, type PackedBatch } from './hash-batch.ts';

/** Bytes of COPY rows sent to a worker at a time: big enough that messaging costs little per entry. */
const BATCH_BYTES = 512 * 1024;

export interface HashOptions {
  /** Worker threads; 0 parses and hashes on the calling thread. */
  threads: number;
  /** Bytes of COPY rows per batch (`BATCH_BYTES` unless a test sets it). */
  batchBytes?: number;
}

/** Batches in flight per worker: enough to keep each busy while the main thread checks the previous results. */
const QUEUE_PER_WORKER = 2;

/**
 * Entries below which starting worker threads costs more than it saves. Each worker loads the TypeScript modules again
 * when it starts. In the audit bench on two cores, 60,000 entries took 0.9 s on the main thread and 2.1 s with two
 * workers. 1,000,000 took 9.1 s and 5.9 s, so the two meet at a few hundred thousand entries (an estimate).
 */
export const PARALLEL_THRESHOLD = 300_000;

/** Worker threads for a verification of `entries` entries: none for short logs, else one per core up to four. */
export function defaultThreads(entries: number): number {
  return entries < PARALLEL_THRESHOLD ? 0 : Math.min(4, os.availableParallelism());
}

interface WorkerReply {
  sequence: number;
  batch?: PackedBatch;
  error?: string;
}

/** Worker threads that hash batches of COPY rows, resolving one promise per batch. */
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
 * Parses and hashes the entries of a binary COPY stream and passes them to `verifier` in order, a batch of rows at a
 * time. With `threads` above 0 the parsing and hashing, and the Merkle subtrees of regular batches, run on that many
 * worker threads while this thread checks the results of earlier batches.
 */
export async function verifyEntryCopy(chunks: AsyncIterable<Buffer>, verifier: ChainVerifier, options: HashOptions): Promise<void> {
  const { threads } = options;
  const batches = copyRowBatches(chunks, options.batchBytes ?? BATCH_BYTES);
  if (threads <= 0) {
    for await (const rows of batches) {
      const batch = hashCopyRows(rows, verifier.checkpointSizes);
      if (batch.ids.length > 0) verifier.pushBatch(toEntryBatch(batch));
    }
    return;
  }
  const pool = new HashPool(threads, verifier.checkpointSizes);
  const inFlight: Promise<PackedBatch>[] = [];
  const take = async () => {
    const batch = await inFlight.shift()!;
    if (batch.ids.length > 0) verifier.pushBatch(toEntryBatch(batch));
  };
  try {
    for await (const rows of batches) {
      const batch = pool.hash(rows);
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
