import { HASH_BYTES } from './chain.ts';
import { hashStoredEntry, type HashedEntry } from './chain-verifier.ts';
import { forEachRow } from './copy-binary.ts';
import { hashPlainRow } from './copy-row-hash.ts';
import { parseCopyRow } from './entry-source.ts';
import { alignedSubtrees, leafHash, treeRoot } from './merkle.ts';

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

/** Checks the packed entries against each other: consecutive ids, unaltered, and each linked to the one before. */
function isRegular(ids: Float64Array, hashes: Uint8Array): boolean {
  const all = Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength);
  for (let index = 0; index < ids.length; index += 1) {
    const offset = index * PACKED_BYTES;
    // The stored hash (second) must equal the recomputed one (third).
    if (all.compare(all, offset + 2 * HASH_BYTES, offset + 3 * HASH_BYTES, offset + HASH_BYTES, offset + 2 * HASH_BYTES) !== 0) return false;
    if (index === 0) continue;
    if (ids[index] !== ids[index - 1]! + 1) return false;
    // The previous hash (first) must equal the stored hash of the entry before.
    const before = offset - PACKED_BYTES;
    if (all.compare(all, before + HASH_BYTES, before + 2 * HASH_BYTES, offset, offset + HASH_BYTES) !== 0) return false;
  }
  return true;
}

/** Summarises a regular batch: its last hash and its leaves as perfect subtrees, cut at every checkpoint size inside it. */
function summariseRun(ids: Float64Array, hashes: Uint8Array, checkpointSizes: readonly number[]): RegularRun {
  const all = Buffer.from(hashes.buffer, hashes.byteOffset, hashes.byteLength);
  const first = ids[0]! - 1;
  const end = first + ids.length;
  const cuts = [first, ...checkpointSizes.filter((size) => size > first && size < end), end];
  const subtrees = cuts.slice(1).flatMap((cut, index) => alignedSubtrees(cuts[index]!, cut));
  const leaves = Array.from(ids, (_id, index) => all.subarray(index * PACKED_BYTES + 3 * HASH_BYTES, (index + 1) * PACKED_BYTES));
  const heights = new Uint8Array(subtrees.length);
  const roots = new Uint8Array(subtrees.length * HASH_BYTES);
  subtrees.forEach((subtree, index) => {
    heights[index] = subtree.height;
    const offset = subtree.start - first;
    roots.set(treeRoot(leaves, offset, offset + 2 ** subtree.height), index * HASH_BYTES);
  });
  const lastHash = new Uint8Array(HASH_BYTES);
  const lastOffset = (ids.length - 1) * PACKED_BYTES;
  lastHash.set(all.subarray(lastOffset + HASH_BYTES, lastOffset + 2 * HASH_BYTES));
  return { lastHash, heights, roots };
}

/** Hashes one row into the packed arrays at `index`: from its bytes when it is a common entry, else through its text. */
function hashRow(rows: Uint8Array, start: number, end: number, ids: Float64Array, hashes: Uint8Array, index: number): void {
  const offset = index * PACKED_BYTES;
  const plain = hashPlainRow(rows, start, end, hashes, offset);
  if (plain !== null && plain.computedHash.equals(hashes.subarray(offset + HASH_BYTES, offset + 2 * HASH_BYTES))) {
    ids[index] = plain.id;
    hashes.set(plain.computedHash, offset + 2 * HASH_BYTES);
    hashes.set(leafHash(plain.computedHash), offset + 3 * HASH_BYTES);
    return;
  }
  // Text that is not plain ASCII or needs escaping, an older rendering of the details, or an altered entry.
  const entry = hashStoredEntry(parseCopyRow(rows, start));
  ids[index] = entry.id;
  hashes.set(entry.prevHash.subarray(0, HASH_BYTES), offset);
  hashes.set(entry.entryHash.subarray(0, HASH_BYTES), offset + HASH_BYTES);
  hashes.set(entry.computedHash, offset + 2 * HASH_BYTES);
  hashes.set(entry.leaf, offset + 3 * HASH_BYTES);
}

/**
 * Parses and hashes a batch of whole binary COPY rows and packs the results, with a summary of the batch when it is
 * regular. `checkpointSizes` are the tree sizes whose roots the verifier compares, in ascending order.
 */
export function hashCopyRows(rows: Uint8Array, checkpointSizes: readonly number[]): PackedBatch {
  const bounds: number[] = [];
  forEachRow(rows, (start, end) => bounds.push(start, end));
  const count = bounds.length / 2;
  const ids = new Float64Array(count);
  const hashes = new Uint8Array(count * PACKED_BYTES);
  for (let index = 0; index < count; index += 1) hashRow(rows, bounds[2 * index]!, bounds[2 * index + 1]!, ids, hashes, index);
  const run = count > 0 && isRegular(ids, hashes) ? summariseRun(ids, hashes, checkpointSizes) : null;
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
