import { hash } from 'node:crypto';
import { BLOCK_BYTES, compressBlock, finish, INITIAL_STATE } from './sha256-blocks.ts';

const DIGEST_BYTES = 32;
/** Room kept for a message in UTF-8, enough for identifiers; longer messages take a buffer of their own. */
const MESSAGE_ROOM = 256;
/** Room for the padding and bit length that end the last block. */
const PADDING_ROOM = BLOCK_BYTES + 8;

/**
 * The two lower-case hex digits of each byte as one 16-bit unit in this machine's byte order, so a digest becomes
 * hex in 32 writes into a Uint16Array over the text buffer.
 */
const HEX_PAIRS = Uint16Array.from({ length: 256 }, (_, byte) => {
  const digits = byte.toString(16).padStart(2, '0');
  return new Uint16Array(new Uint8Array([digits.charCodeAt(0), digits.charCodeAt(1)]).buffer)[0]!;
});

/**
 * HMAC-SHA-256 (RFC 2104) under one fixed key, for hashing many short values: pseudonyms and subject hashes. The
 * states after the inner and outer padded keys are computed once, so each value costs the blocks of its own bytes and
 * one block for the outer hash, with no call into OpenSSL. The output equals `createHmac('sha256', key)` for every
 * input.
 */
export class KeyedHash {
  readonly #innerState = new Int32Array(8);
  readonly #outerState = new Int32Array(8);
  readonly #state = new Int32Array(8);
  readonly #scratch = Buffer.alloc(MESSAGE_ROOM + PADDING_ROOM);
  readonly #hexText = Buffer.alloc(DIGEST_BYTES * 2);
  readonly #hexPairs = new Uint16Array(this.#hexText.buffer, this.#hexText.byteOffset, DIGEST_BYTES);

  constructor(key: Buffer) {
    const block = key.length > BLOCK_BYTES ? hash('sha256', key, 'buffer') : key;
    const inner = Buffer.alloc(BLOCK_BYTES);
    const outer = Buffer.alloc(BLOCK_BYTES);
    for (let index = 0; index < BLOCK_BYTES; index += 1) {
      const byte = block[index] ?? 0;
      inner[index] = byte ^ 0x36;
      outer[index] = byte ^ 0x5c;
    }
    this.#innerState.set(INITIAL_STATE);
    compressBlock(this.#innerState, inner, 0);
    this.#outerState.set(INITIAL_STATE);
    compressBlock(this.#outerState, outer, 0);
    inner.fill(0);
    outer.fill(0);
  }

  /** Computes the 32-byte HMAC of `message`, encoded as UTF-8. */
  digest(message: string): Buffer {
    const state = this.#compute(message);
    const digest = Buffer.alloc(DIGEST_BYTES);
    for (let word = 0; word < 8; word++) digest.writeInt32BE(state[word]!, word * 4);
    return digest;
  }

  /** Computes the HMAC of `message` as 64 lower-case hexadecimal characters. */
  hex(message: string): string {
    const state = this.#compute(message);
    // One string made from a buffer of hex digits costs less than joining 32 two-character strings.
    const pairs = this.#hexPairs;
    for (let word = 0; word < 8; word++) {
      const value = state[word]!;
      const at = word * 4;
      pairs[at] = HEX_PAIRS[value >>> 24]!;
      pairs[at + 1] = HEX_PAIRS[(value >>> 16) & 255]!;
      pairs[at + 2] = HEX_PAIRS[(value >>> 8) & 255]!;
      pairs[at + 3] = HEX_PAIRS[value & 255]!;
    }
    return this.#hexText.toString('latin1');
  }

  /** Runs the inner and outer hashes and returns the state that contains the HMAC. */
  #compute(message: string): Int32Array {
    const state = this.#state;
    state.set(this.#innerState);
    let bytes = this.#scratch;
    let length = asciiInto(message, bytes);
    if (length < 0) {
      // UTF-8 takes at most three bytes per UTF-16 code unit, so a message this short always fits.
      if (message.length * 3 <= MESSAGE_ROOM) {
        length = bytes.write(message, 0, 'utf8');
      } else {
        const encoded = Buffer.from(message, 'utf8');
        bytes = Buffer.alloc(encoded.length + PADDING_ROOM);
        length = encoded.copy(bytes);
      }
    }
    finish(state, BLOCK_BYTES, bytes, length);
    const scratch = this.#scratch;
    for (let word = 0; word < 8; word++) {
      const value = state[word]!;
      scratch[word * 4] = value >>> 24;
      scratch[word * 4 + 1] = value >>> 16;
      scratch[word * 4 + 2] = value >>> 8;
      scratch[word * 4 + 3] = value;
    }
    state.set(this.#outerState);
    finish(state, BLOCK_BYTES, scratch, DIGEST_BYTES);
    return state;
  }

  /** Keeps the key states out of logs and JSON. */
  toJSON(): string {
    return '[KeyedHash]';
  }
}

/** Copies an ASCII message of up to MESSAGE_ROOM characters into `bytes` and returns its length, or -1 otherwise. */
function asciiInto(message: string, bytes: Buffer): number {
  const length = message.length;
  if (length > MESSAGE_ROOM) return -1;
  for (let index = 0; index < length; index++) {
    const code = message.charCodeAt(index);
    if (code >= 0x80) return -1;
    bytes[index] = code;
  }
  return length;
}
