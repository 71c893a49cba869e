import { createHash, hash } from 'node:crypto';
import { HASH_BYTES } from './chain.ts';

/**
 * Merkle tree over the audit entries as RFC 6962 (Certificate Transparency) section 2.1 defines it: a leaf is
 * SHA-256(0x00 || entry hash), an inner node SHA-256(0x01 || left || right), and a tree of n leaves splits at the largest
 * power of two below n.
 */

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

// Both hash one buffer in one call: Hash objects per leaf and per node took about a quarter of the busy CPU time in a
// profile of bench/audit.bench.ts.
export function leafHash(entryHash: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(1 + entryHash.length);
  input[0] = LEAF_PREFIX[0]!;
  input.set(entryHash, 1);
  return hash('sha256', input, 'buffer');
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  const input = Buffer.allocUnsafe(1 + left.length + right.length);
  input[0] = NODE_PREFIX[0]!;
  input.set(left, 1);
  input.set(right, 1 + left.length);
  return hash('sha256', input, 'buffer');
}

/** Root of the empty tree: SHA-256 of the empty string. */
export const EMPTY_ROOT = createHash('sha256').digest();

/**
 * The right edge of a growing tree: the roots of its perfect subtrees, largest first, one per set bit of the size.
 * Appending a leaf and reading the root both take O(log n) hashes, so the tree never has to be read again.
 */
export class MerkleFrontier {
  #size: number;
  readonly #nodes: Buffer[];

  constructor(size = 0, nodes: Buffer[] = []) {
    if (nodes.length !== popCount(size)) {
      throw new Error(`A Merkle frontier for ${size} leaves needs ${popCount(size)} subtree hashes, not ${nodes.length}.`);
    }
    this.#size = size;
    this.#nodes = nodes;
  }

  /** Restores a frontier stored as concatenated 32-byte hashes. */
  static decode(size: number, packed: Uint8Array): MerkleFrontier {
    const nodes: Buffer[] = [];
    for (let offset = 0; offset < packed.length; offset += HASH_BYTES) {
      nodes.push(Buffer.from(packed.subarray(offset, offset + HASH_BYTES)));
    }
    return new MerkleFrontier(size, nodes);
  }

  get size(): number {
    return this.#size;
  }

  encode(): Buffer {
    return Buffer.concat(this.#nodes);
  }

  /** Adds the leaf for one entry hash. */
  append(entryHash: Uint8Array): void {
    this.appendLeaf(leafHash(entryHash));
  }

  /** Adds a leaf hash computed elsewhere (`leafHash` of an entry hash). */
  appendLeaf(leaf: Buffer): void {
    this.appendSubtree(leaf, 0);
  }

  /**
   * Adds the root of a perfect subtree of 2^height leaves, computed elsewhere. The tree's size must be a multiple of
   * 2^height, so the subtree sits where its leaves appended one by one would have built it.
   */
  appendSubtree(root: Buffer, height: number): void {
    const leaves = 2 ** height;
    if (this.#size % leaves !== 0) throw new Error(`A subtree of ${leaves} leaves cannot follow ${this.#size} leaves.`);
    let node = root;
    // Each trailing one bit of the size, counted in subtrees of this height, is a perfect subtree as tall as `node`.
    for (let size = this.#size / leaves; size % 2 === 1; size = Math.floor(size / 2)) {
      node = nodeHash(this.#nodes.pop()!, node);
    }
    this.#nodes.push(node);
    this.#size += leaves;
  }

  root(): Buffer {
    if (this.#nodes.length === 0) return EMPTY_ROOT;
    let root = this.#nodes[this.#nodes.length - 1]!;
    for (let index = this.#nodes.length - 2; index >= 0; index -= 1) root = nodeHash(this.#nodes[index]!, root);
    return root;
  }
}

function popCount(value: number): number {
  let count = 0;
  for (let rest = value; rest > 0; rest = Math.floor(rest / 2)) count += rest % 2;
  return count;
}

/** Largest power of two strictly below `n` (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * Splits leaf positions `start` to `end` (end excluded) into perfect subtrees that `MerkleFrontier.appendSubtree` can
 * take in order: each is as tall as the position's alignment and the remaining length allow.
 */
export function alignedSubtrees(start: number, end: number): { start: number; height: number }[] {
  const subtrees: { start: number; height: number }[] = [];
  let position = start;
  while (position < end) {
    let height = 0;
    while (position % 2 ** (height + 1) === 0 && position + 2 ** (height + 1) <= end) height += 1;
    subtrees.push({ start: position, height });
    position += 2 ** height;
  }
  return subtrees;
}

/** Computes MTH(D[start:end]) for leaf hashes, without copying the list. */
export function treeRoot(leaves: readonly Buffer[], start = 0, end = leaves.length): Buffer {
  const n = end - start;
  if (n === 0) return EMPTY_ROOT;
  if (n === 1) return leaves[start]!;
  const k = splitPoint(n);
  return nodeHash(treeRoot(leaves, start, start + k), treeRoot(leaves, start + k, end));
}

/**
 * Computes the audit path PATH(m, D[0:n]) of RFC 6962 section 2.1.1 for leaf `index` among `leaves` (leaf hashes): the
 * sibling hashes from the leaf up to the root.
 */
export function inclusionPath(index: number, leaves: readonly Buffer[]): Buffer[] {
  if (index < 0 || index >= leaves.length) throw new RangeError(`Leaf ${index} is outside a tree of ${leaves.length} leaves.`);
  const path: Buffer[] = [];
  collectPath(index, leaves, 0, leaves.length, path);
  return path;
}

function collectPath(index: number, leaves: readonly Buffer[], start: number, end: number, path: Buffer[]): void {
  const n = end - start;
  if (n === 1) return;
  const k = splitPoint(n);
  if (index < k) {
    collectPath(index, leaves, start, start + k, path);
    path.push(treeRoot(leaves, start + k, end));
  } else {
    collectPath(index - k, leaves, start + k, end, path);
    path.push(treeRoot(leaves, start, start + k));
  }
}

/**
 * Recomputes the root from an entry hash, its 0-based leaf index, the tree size and its audit path, following the
 * verification algorithm of RFC 9162 section 2.1.3.2. Returns null when the path has the wrong length for the position.
 */
export function rootFromInclusionPath(entryHash: Uint8Array, index: number, treeSize: number, path: readonly Uint8Array[]): Buffer | null {
  if (index < 0 || index >= treeSize) return null;
  let fn = index;
  let sn = treeSize - 1;
  let root = leafHash(entryHash);
  for (const sibling of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      root = nodeHash(sibling, root);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      root = nodeHash(root, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? root : null;
}
