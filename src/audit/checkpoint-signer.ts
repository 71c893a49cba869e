import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import type { KeyRing } from '../keys/key-ring.ts';

/** Key-ring purpose of the Ed25519 seed that signs checkpoints. */
export const CHECKPOINT_KEY_PURPOSE = 'audit-checkpoint-signing';

/** DER prefix of a PKCS #8 Ed25519 private key (RFC 8410 section 7) before its 32-byte seed. */
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
/** DER prefix of an SPKI Ed25519 public key (RFC 8410 section 4) before its 32 raw bytes. */
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/** A checkpoint's signed content. */
export interface CheckpointBody {
  treeSize: number;
  rootHash: Buffer;
  createdAt: Date;
}

/**
 * The exact bytes a checkpoint signature covers: a header line, the size, the root in hex and the time in ISO 8601,
 * one per line. Anyone can rebuild it from the published fields.
 */
export function checkpointMessage(body: CheckpointBody): Buffer {
  return Buffer.from(`civic-exchange audit checkpoint v1\n${body.treeSize}\n${body.rootHash.toString('hex')}\n${body.createdAt.toISOString()}\n`, 'utf8');
}

export function publicKeyFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new Error(`An Ed25519 public key is 32 bytes, not ${raw.length}.`);
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, raw]), format: 'der', type: 'spki' });
}

/** Hex of the first 8 bytes of SHA-256 over the raw public key; names the key in each checkpoint. */
export function keyIdOf(rawPublicKey: Buffer): string {
  return createHash('sha256').update(rawPublicKey).digest().subarray(0, 8).toString('hex');
}

export function verifyCheckpointSignature(body: CheckpointBody, signature: Buffer, rawPublicKey: Buffer): boolean {
  return verify(null, checkpointMessage(body), publicKeyFromRaw(rawPublicKey), signature);
}

/** Signs checkpoints with an Ed25519 key derived from the master key, so every instance signs with the same key. */
export class CheckpointSigner {
  readonly #privateKey: KeyObject;
  readonly publicKey: Buffer;
  readonly keyId: string;

  constructor(keys: KeyRing) {
    const seed = keys.derive(CHECKPOINT_KEY_PURPOSE);
    this.#privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    const spki = createPublicKey(this.#privateKey).export({ format: 'der', type: 'spki' });
    this.publicKey = Buffer.from(spki.subarray(SPKI_ED25519_PREFIX.length));
    this.keyId = keyIdOf(this.publicKey);
  }

  sign(body: CheckpointBody): Buffer {
    return sign(null, checkpointMessage(body), this.#privateKey);
  }

  toJSON(): string {
    return '[CheckpointSigner]';
  }
}
