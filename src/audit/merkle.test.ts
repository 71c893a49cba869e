import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { alignedSubtrees, EMPTY_ROOT, MerkleFrontier, inclusionPath, leafHash, nodeHash, rootFromInclusionPath, treeRoot } from './merkle.ts';

function entryHashes(count: number): Buffer[] {
  return Array.from({ length: count }, (_, index) => createHash('sha256').update(`entry ${index + 1}`).digest());
}

describe('Merkle tree', () => {
  it('matches RFC 6962 for three leaves', () => {
    const [a, b, c] = entryHashes(3).map(leafHash) as [Buffer, Buffer, Buffer];
    assert.deepEqual(treeRoot([a, b, c]), nodeHash(nodeHash(a, b), c));
    assert.deepEqual(treeRoot([]), EMPTY_ROOT);
  });

  it('frontier root equals full root', () => {
    const hashes = entryHashes(70);
    const frontier = new MerkleFrontier();
    for (let size = 1; size <= hashes.length; size += 1) {
      frontier.append(hashes[size - 1]!);
      assert.deepEqual(frontier.root(), treeRoot(hashes.slice(0, size).map(leafHash)), `size ${size}`);
      const restored = MerkleFrontier.decode(frontier.size, frontier.encode());
      assert.deepEqual(restored.root(), frontier.root(), `restored size ${size}`);
    }
  });

  it('verifies every inclusion path', () => {
    for (const size of [1, 2, 3, 5, 8, 13, 33]) {
      const hashes = entryHashes(size);
      const leaves = hashes.map(leafHash);
      const root = treeRoot(leaves);
      for (let index = 0; index < size; index += 1) {
        const path = inclusionPath(index, leaves);
        assert.deepEqual(rootFromInclusionPath(hashes[index]!, index, size, path), root, `leaf ${index} of ${size}`);
      }
    }
  });

  it('rejects a path for the wrong leaf', () => {
    const hashes = entryHashes(10);
    const leaves = hashes.map(leafHash);
    const root = treeRoot(leaves);
    const path = inclusionPath(4, leaves);
    assert.notDeepEqual(rootFromInclusionPath(hashes[5]!, 4, 10, path), root);
    assert.notDeepEqual(rootFromInclusionPath(hashes[4]!, 5, 10, path), root);
    assert.equal(rootFromInclusionPath(hashes[4]!, 4, 10, path.slice(1)), null);
    assert.equal(rootFromInclusionPath(hashes[4]!, 10, 10, path), null);
  });

  it('rejects a frontier of the wrong length', () => {
    assert.throws(() => new MerkleFrontier(3, []), /needs 2 subtree hashes/);
  });

  it('builds the same tree from subtrees', () => {
    const leaves = entryHashes(45).map(leafHash);
    for (const [start, cut] of [[0, 45], [0, 17], [3, 40], [16, 33]] as const) {
      const byLeaf = new MerkleFrontier();
      const bySubtree = new MerkleFrontier();
      for (const leaf of leaves.slice(0, start)) {
        byLeaf.appendLeaf(leaf);
        bySubtree.appendLeaf(leaf);
      }
      for (const leaf of leaves.slice(start, cut)) byLeaf.appendLeaf(leaf);
      const subtrees = alignedSubtrees(start, cut);
      assert.equal(subtrees.reduce((sum, subtree) => sum + 2 ** subtree.height, 0), cut - start);
      for (const subtree of subtrees) bySubtree.appendSubtree(treeRoot(leaves, subtree.start, subtree.start + 2 ** subtree.height), subtree.height);
      assert.equal(bySubtree.size, cut);
      assert.deepEqual(bySubtree.root(), byLeaf.root(), `leaves ${start} to ${cut}`);
    }
  });

  it('rejects a misaligned subtree', () => {
    const frontier = new MerkleFrontier();
    frontier.appendLeaf(leafHash(entryHashes(1)[0]!));
    assert.throws(() => frontier.appendSubtree(EMPTY_ROOT, 1), /subtree of 2 leaves cannot follow 1 leaves/);
  });
});
