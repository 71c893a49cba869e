import type { KeyRing } from '../keys/key-ring.ts';
import { KeyedHash } from '../keys/keyed-hash.ts';

/** The identifiers a person can be found by in the disclosure log. */
export const SUBJECT_KINDS = ['nhs_number', 'person_id', 'email'] as const;
export type SubjectKind = (typeof SUBJECT_KINDS)[number];

export interface SubjectIdentifier {
  kind: SubjectKind;
  value: string;
}

/** Key-ring purpose of the HMAC key behind subject hashes. Changing it orphans every stored hash. */
export const SUBJECT_INDEX_KEY_PURPOSE = 'subject-index';

/**
 * Normalises an identifier so that the ways people write it give one hash: an NHS number keeps only its digits
 * ("943 476 5919" and "9434765919" match), an email is trimmed and lower-cased, a council person id is trimmed.
 * Returns null when nothing is left.
 */
export function normaliseSubject(identifier: SubjectIdentifier): string | null {
  let value: string;
  switch (identifier.kind) {
    case 'nhs_number':
      value = identifier.value.replace(/\D/g, '');
      break;
    case 'email':
      value = identifier.value.trim().toLowerCase();
      break;
    case 'person_id':
      value = identifier.value.trim();
      break;
    default:
      throw new Error(`Unknown subject identifier kind "${String(identifier.kind)}"; use one of ${SUBJECT_KINDS.join(', ')}.`);
  }
  return value === '' ? null : value;
}

/**
 * Computes keyed hashes of subject identifiers (HMAC-SHA-256 over `kind:normalised value`), so the disclosure log can
 * be searched by person without holding anyone's identifier in clear. The kind is part of the input, so a person id
 * that happens to equal an NHS number does not match it.
 */
export class SubjectIndex {
  readonly #hash: KeyedHash;

  constructor(keys: KeyRing) {
    this.#hash = new KeyedHash(keys.derive(SUBJECT_INDEX_KEY_PURPOSE));
  }

  /** Returns the 32-byte hash, or null when the identifier is empty after normalising. */
  hash(identifier: SubjectIdentifier): Buffer | null {
    const normalised = normaliseSubject(identifier);
    if (normalised === null) return null;
    return this.#hash.digest(`${identifier.kind}:${normalised}`);
  }

  /** Hashes a list of identifiers, dropping empty ones and duplicates. */
  hashAll(identifiers: readonly SubjectIdentifier[]): Buffer[] {
    const seen = new Map<string, Buffer>();
    for (const identifier of identifiers) {
      const hash = this.hash(identifier);
      if (hash !== null) seen.set(hash.toString('hex'), hash);
    }
    return [...seen.values()];
  }

  toJSON(): string {
    return '[SubjectIndex]';
  }
}
