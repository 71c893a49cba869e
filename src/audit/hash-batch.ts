import { HASH_BYTES } from './chain.ts';
import { hashStoredEntry, type HashedEntry } from './chain-verifier.ts';
import { parseCopyLine } from './entry-source.ts';
import { alignedSubtrees, treeRoot } from './merkle.ts';

/** Bytes per entry in a packed batch: previous, stored, recomputed and leaf hashes. */
const PACKED_BYTES = 4 * HASH_BYTES;

/**
 * A batch in which nothing needs a closer look: consecutive ids, every stored hash equal to the recomputed one and
 * every link inside the batch intact. Its Merkle leaves come as roots of perfect subtrees, split at checkpoint sizes.
 */
export interface RegularRun {
  lastHash: Uint8Array<ArrayBuffer>;
  heights: Uint8Array<ArrayBuffer>;
  roots: Uint8Array<ArrayBuffer>;
}

/** Hashed entries packed into transferable arrays, for the trip back from a worker thread. */
export interface PackedBatch {
  ids: Float64Array<ArrayBuffer>;
  hashes: Uint8Array<ArrayBuffer>;
  run: RegularRun | null;
}

/** Checks the entries against each other: consecutive ids, unaltered, and each linked to the one before. */
function isRegular(entries: readonly HashedEntry[]): boolean {
  return entries.every((entry, index) => {
    if (!entry.computedHash.equals(entry.entryHash)) return false;
    if (index === 0) return true;
    const previous = entries[index - 1]!;
    return entry.id === previous.id + 1 && entry.prevHash.equals(previous.entryHash);
  });
}

/** Summarises a regular batch: its last hash and its leaves as perfect subtrees, cut at every checkpoint size inside it. */
function summariseRun(entries: readonly HashedEntry[], checkpointSizes: readonly number[]): RegularRun {
  const first = entries[0]!.id - 1;
  const end = first + entries.length;
  const cuts = [first, ...checkpointSizes.filter((size) => size > first && size < end), end];
  const subtrees = cuts.slice(1).flatMap((cut, index) => alignedSubtrees(cuts[index]!, cut));
  const leaves = entries.map((entry) => entry.leaf);
  const heights = new Uint8Array(subtrees.length);
  const roots = new Uint8Array(subtrees.length * HASH_BYTES);
  subtrees.forEach((subtree, index) => {
    heights[index] = subtree.height;
    const offset = subtree.start - first;
    roots.set(treeRoot(leaves, offset, offset + 2 ** subtree.height), index * HASH_BYTES);
  });
  const lastHash = new Uint8Array(HASH_BYTES);
  lastHash.set(entries[entries.length - 1]!.entryHash);
  return { lastHash, heights, roots };
}

/**
 * Parses and hashes whole COPY lines (UTF-8, each ending in a line feed) and packs the results, with a summary of the
 * batch when it is regular. `checkpointSizes` are the tree sizes whose roots the verifier compares, in ascending order.
 */
export function hashCopyLines(bytes: Uint8Array, checkpointSizes: readonly number[]): PackedBatch {
  const lines = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const entries = lines.map((line) => hashStoredEntry(parseCopyLine(line)));
  const ids = new Float64Array(entries.length);
  const hashes = new Uint8Array(entries.length * PACKED_BYTES);
  entries.forEach((entry, index) => {
    const offset = index * PACKED_BYTES;
    ids[index] = entry.id;
    hashes.set(entry.prevHash, offset);
    hashes.set(entry.entryHash, offset + HASH_BYTES);
    hashes.set(entry.computedHash, offset + 2 * HASH_BYTES);
    hashes.set(entry.leaf, offset + 3 * HASH_BYTES);
  });
  const run = entries.length > 0 && isRegular(entries) ? summariseRun(entries, checkpointSizes) : null;
  return { ids, hashes, run };
}

/** Turns one packed entry back into an entry, as views over the batch's buffer. */
export function unpackEntry(batch: PackedBatch, index: number): HashedEntry {
  const all = Buffer.from(batch.hashes.buffer, batch.hashes.byteOffset, batch.hashes.byteLength);
  const offset = index * PACKED_BYTES;
  return {
    id: batch.ids[index]!,
    prevHash: all.subarray(offset, offset + HASH_BYTES),
    entryHash: all.subarray(offset + HASH_BYTES, offset + 2 * HASH_BYTES),
    computedHash: all.subarray(offset + 2 * HASH_BYTES, offset + 3 * HASH_BYTES),
    leaf: all.subarray(offset + 3 * HASH_BYTES, offset + PACKED_BYTES),
  };
}

/** Turns a packed batch back into entries. */
export function unpackBatch(batch: PackedBatch): HashedEntry[] {
  return Array.from(batch.ids, (_id, index) => unpackEntry(batch, index));
}
