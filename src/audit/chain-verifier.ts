import { GENESIS_HASH, rehashStored, type ChainFields } from './chain.ts';
import { leafHash, MerkleFrontier } from './merkle.ts';

/** One audit entry as stored: its fields, the link to its predecessor and its own hash. */
export interface StoredEntry {
  id: number;
  fields: ChainFields;
  prevHash: Buffer;
  entryHash: Buffer;
}

/**
 * An entry with the hashing done: what the verifier needs, so the hashing can run on other threads while the checks
 * of order and links stay in one place.
 */
export interface HashedEntry {
  id: number;
  prevHash: Buffer;
  /** The hash stored with the entry. */
  entryHash: Buffer;
  /** The hash recomputed from the entry's fields and stored `prev_hash`. */
  computedHash: Buffer;
  /** Merkle leaf of the hash the chain goes on from: the stored hash when it matches, the recomputed one otherwise. */
  leaf: Buffer;
}

/** Entries hashed together (on a worker thread), which the verifier can take whole when they continue the chain. */
export interface EntryBatch {
  first: HashedEntry;
  lastId: number;
  count: number;
  /**
   * Set when the batch is regular: consecutive ids, no altered entry, every link inside it intact. Its leaves come as
   * perfect subtree roots in order, cut at every checkpoint size inside the batch.
   */
  run: { lastHash: Buffer; subtrees: { height: number; root: Buffer }[] } | null;
  /** Unpacks every entry, for checking one by one. */
  entries(): HashedEntry[];
}

/** Recomputes an entry's hash and the Merkle leaf the verifier appends for it. */
export function hashStoredEntry(entry: StoredEntry): HashedEntry {
  const computedHash = rehashStored(entry.prevHash, entry.fields, entry.entryHash);
  return { id: entry.id, prevHash: entry.prevHash, entryHash: entry.entryHash, computedHash, leaf: leafHash(computedHash) };
}

export type ProblemKind = 'altered' | 'missing' | 'out_of_order' | 'unexpected' | 'checkpoint';

export interface ChainProblem {
  kind: ProblemKind;
  /** The entry the problem is first seen at (for checkpoints, the tree size). */
  entryId: number;
  message: string;
}

/** A checkpoint whose root the verifier compares with the tree it rebuilds, once it reaches `treeSize` entries. */
export interface ExpectedRoot {
  treeSize: number;
  rootHash: Buffer;
  /** How the user knows this checkpoint, for messages (such as "checkpoint 1200" or a file name). */
  label: string;
}

export interface VerifierStart {
  /** Id of the first entry to check; 1 for the whole log. */
  fromId: number;
  /** Hash of entry `fromId - 1`, trusted as the starting point; the zero hash when starting at 1. */
  previousHash: Buffer;
  /** Checkpoint roots to compare; used only when checking from entry 1, since a root covers the whole prefix. */
  expectedRoots?: readonly ExpectedRoot[];
  /** Stop recording problems after this many (checking goes on, so the count stays right). */
  maxProblems?: number;
}

export interface ChainReport {
  checked: number;
  firstId: number | null;
  lastId: number | null;
  /** Hash of the last entry as recomputed. */
  lastHash: Buffer;
  /** Merkle root over entries 1 to `lastId`; null for a partial range or a log with gaps. */
  root: Buffer | null;
  rootsChecked: number;
  problems: ChainProblem[];
  problemCount: number;
}

/**
 * Checks a stream of entries in id order, one at a time, in constant memory: each entry's hash is recomputed from its
 * fields and stored `prev_hash`, each link is compared with the previous entry's hash, gaps in the ids are missing
 * entries, and the Merkle tree is rebuilt to compare with checkpoint roots. One entry of look-ahead tells two swapped
 * entries apart from an altered one.
 */
export class ChainVerifier {
  #expectedId: number;
  #previousHash: Buffer;
  #previousAltered = false;
  #pending: HashedEntry | null = null;
  #frontier: MerkleFrontier | null;
  readonly #roots: Map<number, ExpectedRoot>;
  readonly #maxProblems: number;
  readonly #report: ChainReport;

  constructor(start: VerifierStart) {
    this.#expectedId = start.fromId;
    this.#previousHash = start.previousHash;
    this.#frontier = start.fromId === 1 ? new MerkleFrontier() : null;
    this.#roots = new Map((start.fromId === 1 ? (start.expectedRoots ?? []) : []).map((root) => [root.treeSize, root]));
    this.#maxProblems = start.maxProblems ?? 100;
    this.#report = { checked: 0, firstId: null, lastId: null, lastHash: start.previousHash, root: null, rootsChecked: 0, problems: [], problemCount: 0 };
  }

  /** Tree sizes whose checkpoint roots are still to be compared, in ascending order. */
  get checkpointSizes(): number[] {
    return [...this.#roots.keys()].sort((a, b) => a - b);
  }

  /** Checks the next entry in id order. */
  push(entry: HashedEntry): void {
    const pending = this.#pending;
    this.#pending = entry;
    if (pending !== null) this.#check(pending, entry);
  }

  /**
   * Checks the next batch in id order. A regular batch that continues the chain is taken whole: its links and hashes
   * were checked where it was hashed, so only the link into it and the Merkle subtrees are left. Any other batch, or
   * one that follows an irregular entry, is checked entry by entry.
   */
  pushBatch(batch: EntryBatch): void {
    const pending = this.#pending;
    if (batch.run === null || (pending !== null && !this.#continues(pending))) {
      for (const entry of batch.entries()) this.push(entry);
      return;
    }
    if (pending !== null) {
      this.#pending = null;
      this.#check(pending, batch.first);
    }
    if (!this.#continues(batch.first)) {
      for (const entry of batch.entries()) this.push(entry);
      return;
    }
    const report = this.#report;
    report.checked += batch.count;
    report.firstId ??= batch.first.id;
    report.lastId = Math.max(report.lastId ?? batch.lastId, batch.lastId);
    this.#previousHash = batch.run.lastHash;
    this.#previousAltered = false;
    this.#expectedId = batch.lastId + 1;
    if (this.#frontier === null) return;
    for (const subtree of batch.run.subtrees) {
      this.#frontier.appendSubtree(subtree.root, subtree.height);
      this.#compareRoot();
    }
  }

  /** Whether an entry is the expected next one, unaltered and linked to the hash before it. */
  #continues(entry: HashedEntry): boolean {
    return entry.id === this.#expectedId && entry.prevHash.equals(this.#previousHash) && entry.computedHash.equals(entry.entryHash);
  }

  /**
   * Finishes the stream. `headSize` is the size the chain head records, when known: entries up to it that never came
   * are reported missing, and entries beyond it as added outside `appendAuditEvent`.
   */
  finish(headSize?: number): ChainReport {
    const pending = this.#pending;
    this.#pending = null;
    if (pending !== null) this.#check(pending, null);
    if (headSize !== undefined) {
      if (headSize >= this.#expectedId) this.#missing(this.#expectedId, headSize);
      const lastId = this.#report.lastId;
      if (lastId !== null && lastId > headSize) {
        this.#problem('unexpected', headSize + 1, `entry ${headSize + 1} is not part of the chain: the chain head ends at entry ${headSize}`);
      }
    }
    for (const root of this.#roots.values()) {
      if (root.treeSize >= this.#expectedId) {
        this.#problem('checkpoint', root.treeSize, `${root.label} covers ${root.treeSize} entries but the log ends at entry ${this.#expectedId - 1}`);
      }
    }
    this.#report.lastHash = this.#previousHash;
    this.#report.root = this.#frontier?.root() ?? null;
    return this.#report;
  }

  #check(entry: HashedEntry, next: HashedEntry | null): void {
    // Two lines of an export swapped: the ids arrive as k + 1 then k.
    if (next !== null && entry.id === this.#expectedId + 1 && next.id === this.#expectedId) {
      this.#problem('out_of_order', next.id, `entries ${next.id} and ${entry.id} are out of order`);
      this.#pending = null;
      this.#checkLinked(next, null, true);
      this.#checkLinked(entry, null, true);
      return;
    }
    this.#checkLinked(entry, next, false);
  }

  #checkLinked(entry: HashedEntry, next: HashedEntry | null, reported: boolean): void {
    const report = this.#report;
    report.checked += 1;
    report.firstId ??= entry.id;
    report.lastId = Math.max(report.lastId ?? entry.id, entry.id);

    if (entry.id > this.#expectedId) {
      this.#missing(this.#expectedId, entry.id - 1);
      // The missing entries cannot be hashed, so the link into this entry cannot be checked; start again from it.
      this.#previousHash = entry.prevHash;
      this.#frontier = null;
    } else if (entry.id < this.#expectedId) {
      this.#problem('out_of_order', entry.id, `entry ${entry.id} appears after entry ${this.#expectedId - 1}`);
      return;
    }

    const altered = this.#isAltered(entry);
    if (!entry.prevHash.equals(this.#previousHash) && !reported) {
      // Rows whose ids were swapped in the table: each is intact, but the first links to the second's hash.
      const swapped = next !== null && next.id === entry.id + 1 && next.prevHash.equals(this.#previousHash) && entry.prevHash.equals(next.entryHash);
      if (swapped) {
        this.#problem('out_of_order', entry.id, `entries ${entry.id} and ${next.id} are out of order`);
        this.#pending = null;
        report.checked += 1;
        report.lastId = next.id;
        const nextAltered = this.#isAltered(next);
        this.#accept(entry.id, next, nextAltered);
        this.#accept(next.id, entry, altered);
        return;
      }
      if (!altered && !this.#previousAltered && entry.id > 1) {
        this.#problem('altered', entry.id - 1, `entry ${entry.id - 1} was altered: entry ${entry.id} links to a different hash`);
      }
    }
    this.#accept(entry.id, entry, altered);
  }

  /** Reports an entry whose recomputed hash differs from the stored one. */
  #isAltered(entry: HashedEntry): boolean {
    const altered = !entry.computedHash.equals(entry.entryHash);
    if (altered) this.#problem('altered', entry.id, `entry ${entry.id} was altered`);
    return altered;
  }

  /** Moves the chain on from `id` with the recomputed hash of `source` (and its leaf). */
  #accept(id: number, source: HashedEntry, altered: boolean): void {
    this.#previousHash = source.computedHash;
    this.#previousAltered = altered;
    this.#expectedId = id + 1;
    if (this.#frontier === null) return;
    this.#frontier.appendLeaf(source.leaf);
    this.#compareRoot();
  }

  /** Compares the rebuilt tree with the checkpoint of its current size, when there is one. */
  #compareRoot(): void {
    if (this.#frontier === null) return;
    const expected = this.#roots.get(this.#frontier.size);
    if (expected === undefined) return;
    this.#roots.delete(expected.treeSize);
    this.#report.rootsChecked += 1;
    if (!this.#frontier.root().equals(expected.rootHash)) {
      this.#problem('checkpoint', expected.treeSize, `${expected.label} does not match entries 1 to ${expected.treeSize}: its root hash differs`);
    }
  }

  #missing(from: number, to: number): void {
    const message = from === to ? `entry ${from} is missing` : `entries ${from} to ${to} are missing`;
    this.#problem('missing', from, message);
  }

  #problem(kind: ProblemKind, entryId: number, message: string): void {
    this.#report.problemCount += 1;
    if (this.#report.problems.length < this.#maxProblems) this.#report.problems.push({ kind, entryId, message });
  }
}

export { GENESIS_HASH };
