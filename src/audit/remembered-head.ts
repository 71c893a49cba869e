import type { AuditEvent } from './audit.repository.ts';
import { chainEntries, type PreparedEntries } from './chain.repository.ts';
import { MerkleFrontier } from './merkle.ts';

/** The chain head position that a remembered append expects when its statement runs. */
export interface ExpectedHead {
  size: number;
  headHash: Buffer;
}

/**
 * The chain head as this process last moved it, so a frequent appender (the disclosure log) can build its entries
 * without first locking and reading the head: one round trip less per release. The statement that writes such entries
 * moves the head only if it is still where this process left it (see `writeDisclosureAfterHead`). If it is not, the
 * appender locks the head and builds its entries again. The lock on the head row still orders appends, so the chain
 * cannot fork, whatever other processes or appenders do.
 *
 * The head is remembered before the entries commit, so a second release in this process chains after the first. Its
 * statement waits for the first's lock on the head row, then finds the head it expected. If the first rolls back
 * instead, the second finds the head elsewhere and builds its entries again.
 */
export class RememberedHead {
  #head: { size: number; headHash: Buffer; frontier: Buffer } | null = null;

  /**
   * Builds the rows that append `events` after the remembered head and remembers the head they lead to. Returns null
   * when no head is remembered yet.
   */
  prepare(events: readonly AuditEvent[], now: Date): { expected: ExpectedHead; prepared: PreparedEntries } | null {
    const head = this.#head;
    if (head === null) return null;
    const prepared = chainEntries({ size: head.size, headHash: head.headHash, frontier: MerkleFrontier.decode(head.size, head.frontier) }, events, now);
    this.#head = prepared.head;
    return { expected: { size: head.size, headHash: head.headHash }, prepared };
  }

  /** Remembers the head that entries written under the head lock lead to. */
  remember(head: PreparedEntries['head']): void {
    this.#head = head;
  }

  toJSON(): string {
    return '[RememberedHead]';
  }
}
