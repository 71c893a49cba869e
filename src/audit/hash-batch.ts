import { HASH_BYTES } from './chain.ts';
import { hashStoredEntry, type HashedEntry } from './chain-verifier.ts';
import { parseCopyLine } from './entry-source.ts';

/** Bytes per entry in a packed batch: previous, stored, recomputed and leaf hashes. */
const PACKED_BYTES = 4 * HASH_BYTES;

/** Hashed entries packed into two transferable arrays, for the trip back from a worker thread. */
export interface PackedBatch {
  ids: Float64Array<ArrayBuffer>;
  hashes: Uint8Array<ArrayBuffer>;
}

/** Parses and hashes whole COPY lines (UTF-8, each ending in a line feed) and packs the results. */
export function hashCopyLines(bytes: Uint8Array): PackedBatch {
  const lines = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8').split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const ids = new Float64Array(lines.length);
  const hashes = new Uint8Array(lines.length * PACKED_BYTES);
  lines.forEach((line, index) => {
    const entry = hashStoredEntry(parseCopyLine(line));
    const offset = index * PACKED_BYTES;
    ids[index] = entry.id;
    hashes.set(entry.prevHash, offset);
    hashes.set(entry.entryHash, offset + HASH_BYTES);
    hashes.set(entry.computedHash, offset + 2 * HASH_BYTES);
    hashes.set(entry.leaf, offset + 3 * HASH_BYTES);
  });
  return { ids, hashes };
}

/** Turns a packed batch back into entries, as views over its one buffer. */
export function unpackBatch(batch: PackedBatch): HashedEntry[] {
  const all = Buffer.from(batch.hashes.buffer, batch.hashes.byteOffset, batch.hashes.byteLength);
  return Array.from(batch.ids, (id, index) => {
    const offset = index * PACKED_BYTES;
    return {
      id,
      prevHash: all.subarray(offset, offset + HASH_BYTES),
      entryHash: all.subarray(offset + HASH_BYTES, offset + 2 * HASH_BYTES),
      computedHash: all.subarray(offset + 2 * HASH_BYTES, offset + 3 * HASH_BYTES),
      leaf: all.subarray(offset + 3 * HASH_BYTES, offset + PACKED_BYTES),
    };
  });
}
