import { hkdfSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Derives every secret the service needs (pseudonymisation keys, signing seeds, token peppers) from one master key with
 * HKDF-SHA-256, so only the master key has to be stored and rotated. Derived keys never leave the process.
 */
export class KeyRing {
  readonly #master: Buffer;

  constructor(master: Buffer) {
    if (master.length < 32) throw new Error('The master key must be at least 32 bytes.');
    this.#master = Buffer.from(master);
  }

  /** Returns `length` bytes bound to `purpose`, such as `agreement-pseudonym:<id>`. Equal inputs give equal keys. */
  derive(purpose: string, length = 32): Buffer {
    return Buffer.from(hkdfSync('sha256', this.#master, Buffer.alloc(0), Buffer.from(purpose, 'utf8'), length));
  }

  /** Keeps the master key out of logs and JSON. */
  toJSON(): string {
    return '[KeyRing]';
  }
}

/**
 * Loads the master key from CIVIC_MASTER_KEY, or from `master.key` in the data folder, creating that file (mode 0600)
 * on first start so a local installation needs no setup.
 */
export function loadKeyRing(masterKey: string | undefined, dataDir: string): KeyRing {
  if (masterKey !== undefined) return new KeyRing(Buffer.from(masterKey, 'base64'));
  const keyPath = path.join(dataDir, 'master.key');
  fs.mkdirSync(dataDir, { recursive: true });
  if (!fs.existsSync(keyPath)) {
    fs.writeFileSync(keyPath, randomBytes(32).toString('base64'), { mode: 0o600, flag: 'wx' });
  }
  return new KeyRing(Buffer.from(fs.readFileSync(keyPath, 'utf8').trim(), 'base64'));
}
