import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { hashStoredEntry, type HashedEntry } from './chain-verifier.ts';
import { splitLines, parseCopyLine } from './entry-source.ts';
import { unpackBatch, type PackedBatch } from './hash-batch.ts';

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

  constructor(threads: number) {
    this.#workers = Array.from({ length: threads }, () => {
      // No inherited `--import` flags: the bootstrap file loads TypeScript support itself.
      const worker = new Worker(new URL('./hash-worker.mjs', import.meta.url), { execArgv: [] });
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

/**
 * Parses and hashes the entries of a COPY text stream, in order. With `threads` above 0 the parsing and hashing run on
 * that many worker threads, a batch of lines at a time, while the caller checks the results of earlier batches.
 */
export async function* hashEntries(chunks: AsyncIterable<Buffer>, options: HashOptions): AsyncGenerator<HashedEntry> {
  const { threads } = options;
  if (threads <= 0) {
    for await (const line of splitLines(chunks)) yield hashStoredEntry(parseCopyLine(line));
    return;
  }
  const pool = new HashPool(threads);
  const inFlight: Promise<PackedBatch>[] = [];
  try {
    for await (const bytes of lineBatches(chunks, options.batchBytes ?? BATCH_BYTES)) {
      const batch = pool.hash(bytes);
      // Marked as handled at once: a batch can fail while earlier ones are still awaited, and is awaited in its turn.
      batch.catch(() => undefined);
      inFlight.push(batch);
      if (inFlight.length >= threads * QUEUE_PER_WORKER) yield* unpackBatch(await inFlight.shift()!);
    }
    while (inFlight.length > 0) yield* unpackBatch(await inFlight.shift()!);
  } finally {
    await pool.close();
  }
}
