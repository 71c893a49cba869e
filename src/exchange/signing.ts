import { createHash, createPrivateKey, createPublicKey, sign, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { KeyRing } from '../keys/key-ring.ts';

/**
 * Digests and signatures that let a recipient prove what they received.
 *
 * - `Content-Digest: sha-256=:<base64>:` is the RFC 9530 digest of the response body bytes.
 * - `Civic-Signature: keyid="<id>", alg="ed25519", sig=:<base64>:` is an Ed25519 signature over the ASCII text of that
 *   Content-Digest value, so checking a file needs only its bytes, the signature and the public key.
 * The signing key derives from the master key, so every instance signs with the same key and nothing is stored.
 */

/** DER prefix of a PKCS #8 Ed25519 private key; the 32-byte seed follows it (RFC 8410). */
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SIGNATURE_PATTERN = /^\s*keyid="([A-Za-z0-9._-]{1,100})"\s*,\s*alg="ed25519"\s*,\s*sig=:([A-Za-z0-9+/]+={0,2}):\s*$/;

export interface PublishedKey {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  use: 'sig';
  alg: 'EdDSA';
}

export function contentDigest(body: Buffer | string): string {
  return formatDigest(createHash('sha256').update(body).digest());
}

export function formatDigest(sha256: Buffer): string {
  return `sha-256=:${sha256.toString('base64')}:`;
}

export class ExchangeSigner {
  readonly #privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyId: string;

  constructor(keys: KeyRing) {
    const seed = keys.derive('exchange-signing:ed25519:1');
    this.#privateKey = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    this.publicKey = createPublicKey(this.#privateKey);
    const raw = rawPublicKey(this.publicKey);
    this.keyId = `civic-ed25519-${createHash('sha256').update(raw).digest('hex').slice(0, 16)}`;
  }

  /** Returns the Civic-Signature header value for a Content-Digest value. */
  signDigest(digest: string): string {
    const signature = sign(null, Buffer.from(digest, 'ascii'), this.#privateKey);
    return `keyid="${this.keyId}", alg="ed25519", sig=:${signature.toString('base64')}:`;
  }

  /** The public key as a JSON Web Key (RFC 8037). */
  publishedKey(): PublishedKey {
    return { kty: 'OKP', crv: 'Ed25519', x: rawPublicKey(this.publicKey).toString('base64url'), kid: this.keyId, use: 'sig', alg: 'EdDSA' };
  }

  toJSON(): string {
    return '[ExchangeSigner]';
  }
}

function rawPublicKey(key: KeyObject): Buffer {
  const jwk = key.export({ format: 'jwk' });
  return Buffer.from(String(jwk.x), 'base64url');
}

export function parseSignature(value: string): { keyId: string; signature: Buffer } | null {
  const match = SIGNATURE_PATTERN.exec(value);
  if (!match) return null;
  return { keyId: match[1]!, signature: Buffer.from(match[2]!, 'base64') };
}

/** Error for a public key that cannot be read, or a key set without the signer's key. The message names the fix. */
export class PublicKeyError extends Error {
  override name = 'PublicKeyError';

  /** True when the key set was read but lacks the key; false when the text is not a key at all. */
  constructor(message: string, readonly keyNotInSet = false) {
    super(message);
  }
}

/**
 * Builds a public key from PEM text, the 32 raw bytes in base64 or base64url, a JWK, or a JWK set such as
 * `/api/v1/exchange/signing-keys` returns. From a set it takes the key whose `kid` is `keyId`.
 */
export function readPublicKey(text: string, keyId?: string): KeyObject {
  const trimmed = text.trim();
  try {
    if (trimmed.startsWith('-----BEGIN')) return createPublicKey(trimmed);
    if (trimmed.startsWith('{')) return createPublicKey({ key: pickJwk(JSON.parse(trimmed) as unknown, keyId), format: 'jwk' });
  } catch (error) {
    if (error instanceof PublicKeyError) throw error;
    throw new PublicKeyError(`The public key could not be read (${(error as Error).message}). Give the JSON that /api/v1/exchange/signing-keys returns, one key from it, or a PEM file.`);
  }
  const raw = Buffer.from(trimmed, 'base64url');
  if (raw.length !== 32) throw new PublicKeyError('The public key must be a JWK, a JWK set, a PEM file or 32 bytes in base64.');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: raw.toString('base64url') }, format: 'jwk' });
}

function pickJwk(parsed: unknown, keyId: string | undefined): JsonWebKey {
  const set = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(set)) return parsed as JsonWebKey;
  const keys = set as Array<JsonWebKey & { kid?: string }>;
  const chosen = keyId === undefined && keys.length === 1 ? keys[0] : keys.find((key) => key.kid === keyId);
  if (!chosen) {
    const published = keys.map((key) => key.kid ?? 'none').join(', ') || 'none';
    throw new PublicKeyError(`The key set has no key with the id ${keyId ?? '(none given)'}. Its key ids are: ${published}. Fetch the current set from the server that signed the file.`, true);
  }
  return chosen;
}

/** Checks a Civic-Signature value against a Content-Digest value. */
export function verifyDigestSignature(digest: string, signature: Buffer, publicKey: KeyObject): boolean {
  return verify(null, Buffer.from(digest, 'ascii'), publicKey, signature);
}
