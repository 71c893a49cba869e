import type { Normalisation } from '../agreements/agreement.terms.ts';
import type { KeyRing } from '../keys/key-ring.ts';
import { KeyedHash } from '../keys/keyed-hash.ts';

/**
 * Keyed pseudonyms: HMAC-SHA-256 of the normalised value under a key derived per agreement, so the same person gets
 * the same pseudonym in every version of one agreement and unlinkable pseudonyms across agreements. The key never
 * leaves the process; without it a recipient cannot reverse a pseudonym or test a guessed value.
 */
export class Pseudonymiser {
  readonly #hash: KeyedHash;

  constructor(keys: KeyRing, agreementId: string) {
    this.#hash = new KeyedHash(keys.derive(`agreement-pseudonym:${agreementId}`));
  }

  /** Returns the pseudonym as 64 lower-case hex characters; null and empty values stay null. */
  pseudonymise(value: unknown, normalisation: Normalisation): string | null {
    const normalised = normaliseIdentifier(value, normalisation);
    if (normalised === null) return null;
    return this.#hash.hex(normalised);
  }

  /** Pseudonymises many values at once, equal to pseudonymise() on each; null and empty values stay null. */
  pseudonymiseMany(values: readonly unknown[], normalisation: Normalisation): Array<string | null> {
    const pseudonyms = new Array<string | null>(values.length).fill(null);
    const messages: string[] = [];
    const positions: number[] = [];
    for (let index = 0; index < values.length; index++) {
      // NHS numbers keep their digits only, and the hash skips the other characters itself.
      const message = normalisation === 'nhs_number' ? identifierText(values[index]) : normaliseIdentifier(values[index], normalisation);
      if (message === null) continue;
      messages.push(message);
      positions.push(index);
    }
    const hashes = normalisation === 'nhs_number' ? this.#hash.hexManyDigits(messages) : this.#hash.hexMany(messages);
    for (let index = 0; index < positions.length; index++) pseudonyms[positions[index]!] = hashes[index]!;
    return pseudonyms;
  }

  toJSON(): string {
    return '[Pseudonymiser]';
  }
}

/** How many agreements' pseudonymisers are kept; more than a server releases under at once. */
const KEPT_PSEUDONYMISERS = 256;

/**
 * Keeps the pseudonymiser of each agreement released under lately. Deriving the key and preparing its padded states
 * took about 0.4 ms, as long as pseudonymising a page of 1,000 NHS numbers, so a page no longer pays it again.
 */
export class Pseudonymisers {
  readonly #kept = new Map<string, Pseudonymiser>();

  constructor(private readonly keys: KeyRing) {}

  /** Returns the pseudonymiser of `agreementId`, equal to `new Pseudonymiser(keys, agreementId)`. */
  of(agreementId: string): Pseudonymiser {
    let pseudonymiser = this.#kept.get(agreementId);
    if (pseudonymiser) {
      // Most recently used last, so the oldest goes first.
      this.#kept.delete(agreementId);
    } else {
      pseudonymiser = new Pseudonymiser(this.keys, agreementId);
      if (this.#kept.size >= KEPT_PSEUDONYMISERS) this.#kept.delete(this.#kept.keys().next().value!);
    }
    this.#kept.set(agreementId, pseudonymiser);
    return pseudonymiser;
  }

  toJSON(): string {
    return '[Pseudonymisers]';
  }
}

/**
 * Brings equal identifiers to one form: an NHS number keeps its digits only ("943 476 5919" and "9434765919" are one
 * person), an email address is trimmed and lower-cased, and other text is trimmed, Unicode-normalised (NFC) and has
 * runs of white space collapsed.
 */
export function normaliseIdentifier(value: unknown, normalisation: Normalisation): string | null {
  const text = identifierText(value);
  if (text === null) return null;
  let normalised: string;
  switch (normalisation) {
    case 'nhs_number':
      normalised = text.replace(/\D/g, '');
      break;
    case 'email':
      normalised = text.trim().toLowerCase();
      break;
    case 'text':
      normalised = text.normalize('NFC').trim().replace(/\s+/g, ' ');
      break;
  }
  return normalised === '' ? null : normalised;
}

/** Returns a stored value as the text that identifiers are normalised from, or null for no value. */
function identifierText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.toISOString() : String(value);
}
