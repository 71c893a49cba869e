import { timingSafeEqual } from 'node:crypto';
import type { KeyRing } from '../keys/key-ring.ts';
import { KeyedHash } from '../keys/keyed-hash.ts';

/**
 * Opaque paging and change-feed cursors: a dataset version and the last `_id` released, bound to one agreement and
 * dataset and signed with an HMAC, so a client cannot forge a position or reuse a cursor under another agreement.
 */
export interface CursorPosition {
  version: number;
  lastId: number;
}

export class CursorCodec {
  readonly #mac: KeyedHash;

  constructor(keys: KeyRing) {
    this.#mac = new KeyedHash(keys.derive('exchange-cursor'));
  }

  encode(scope: string, position: CursorPosition): string {
    const body = Buffer.from(JSON.stringify({ v: position.version, i: position.lastId }), 'utf8').toString('base64url');
    return `${body}.${this.#sign(scope, body)}`;
  }

  /** Returns the position, or null when the cursor was not issued for this scope or was altered. */
  decode(scope: string, cursor: string): CursorPosition | null {
    const [body, mac, extra] = cursor.split('.');
    if (!body || !mac || extra !== undefined) return null;
    const expected = Buffer.from(this.#sign(scope, body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const parsed = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as { v?: unknown; i?: unknown };
      if (!Number.isSafeInteger(parsed.v) || !Number.isSafeInteger(parsed.i)) return null;
      return { version: parsed.v as number, lastId: parsed.i as number };
    } catch {
      return null;
    }
  }

  /** HMAC-SHA-256 of the scope and body, base64url, cut to 32 characters (192 bits). */
  #sign(scope: string, body: string): string {
    return this.#mac.digest(`${scope}\n${body}`).toString('base64url').slice(0, 32);
  }

  toJSON(): string {
    return '[CursorCodec]';
  }
}
