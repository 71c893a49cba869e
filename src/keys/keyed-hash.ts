import { hash } from 'node:crypto';
import { BLOCK_BYTES, compressBlock, finish, INITIAL_STATE } from './sha256-blocks.ts';
import { LANE_LAYOUT, laneHasher, MAX_GROUPS, MAX_LANE_MESSAGE_BYTES } from './sha256-lanes.ts';

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
  /** The hex digits of every lane of one call of the lane hasher, made into one string. */
  readonly #laneText = Buffer.alloc(MAX_GROUPS * 4 * DIGEST_BYTES * 2);
  readonly #lanePairs = new Uint16Array(this.#laneText.buffer, this.#laneText.byteOffset, MAX_GROUPS * 4 * DIGEST_BYTES);

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
    return this.#hexOf(this.#compute(message));
  }

  /**
   * Computes the HMACs of many messages as hex, equal to calling hex() on each. ASCII messages of up to 55 characters,
   * such as NHS numbers, are hashed four at a time in WebAssembly SIMD lanes. Other messages are hashed one at a time.
   */
  hexMany(messages: readonly string[]): string[] {
    return this.#hashMany(messages, false) as string[];
  }

  /**
   * Computes the HMACs of the digits 0 to 9 of many texts, skipping every other character. For each text the result
   * equals `hex(text.replace(/\D/g, ''))`, or null when the text has no digits. NHS numbers are hashed this way, so
   * "943 476 5919" and "9434765919" get one HMAC, without a string made for the digits.
   */
  hexManyDigits(texts: readonly string[]): Array<string | null> {
    return this.#hashMany(texts, true);
  }

  #hashMany(messages: readonly string[], digitsOnly: boolean): Array<string | null> {
    const hashes = new Array<string | null>(messages.length);
    const hasher = laneHasher();
    if (hasher === null) {
      for (let index = 0; index < messages.length; index++) hashes[index] = this.#hexOne(messages[index]!, digitsOnly);
      return hashes;
    }

    const words = hasher.words;
    for (let word = 0; word < 8; word++) {
      for (let lane = 0; lane < 4; lane++) {
        words[LANE_LAYOUT.inner + word * 4 + lane] = this.#innerState[word]!;
        words[LANE_LAYOUT.outer + word * 4 + lane] = this.#outerState[word]!;
      }
    }

    const perCall = MAX_GROUPS * 4;
    const single: number[] = [];
    for (let start = 0; start < messages.length; start += perCall) {
      const count = Math.min(perCall, messages.length - start);
      single.length = 0;
      for (let index = 0; index < count; index++) {
        const base = LANE_LAYOUT.input + (index >> 2) * 64 + (index & 3);
        // A message that does not fit a lane still leaves the lane running on whatever it holds, and that digest is
        // not read.
        if (!packLane(messages[start + index]!, words, base, digitsOnly)) single.push(start + index);
      }

      hasher.hash((count + 3) >> 2);
      // One string of all the digests, cut into one per message: a single call to make a string costs less than one
      // per digest.
      const text = this.#lanesHex(words, count);
      for (let index = 0; index < count; index++) hashes[start + index] = text.slice(index * 64, index * 64 + 64);
      for (const index of single) hashes[index] = this.#hexOne(messages[index]!, digitsOnly);
    }

    // The module's memory is shared and outlives the call, so the key states and identifiers are not left in it.
    words.fill(0, LANE_LAYOUT.inner, LANE_LAYOUT.end);
    return hashes;
  }

  /** Computes one HMAC as hexMany or hexManyDigits does, outside the lanes. */
  #hexOne(message: string, digitsOnly: boolean): string | null {
    if (!digitsOnly) return this.hex(message);
    const digits = message.replace(NOT_DIGITS, '');
    return digits === '' ? null : this.hex(digits);
  }

  /** Formats the digests of the first `count` lanes of the lane hasher's output as one string of hex digits. */
  #lanesHex(words: Int32Array, count: number): string {
    const pairs = this.#lanePairs;
    for (let index = 0; index < count; index++) {
      const at = LANE_LAYOUT.output + (index >> 2) * 32 + (index & 3);
      for (let word = 0; word < 8; word++) {
        const value = words[at + word * 4]!;
        const pair = index * 32 + word * 4;
        pairs[pair] = HEX_PAIRS[value >>> 24]!;
        pairs[pair + 1] = HEX_PAIRS[(value >>> 16) & 255]!;
        pairs[pair + 2] = HEX_PAIRS[(value >>> 8) & 255]!;
        pairs[pair + 3] = HEX_PAIRS[value & 255]!;
      }
    }
    return this.#laneText.toString('latin1', 0, count * 64);
  }

  /** Formats the eight words of a digest as 64 lower-case hexadecimal characters. */
  #hexOf(words: Int32Array): string {
    // One string made from a buffer of hex digits costs less than joining 32 two-character strings.
    const pairs = this.#hexPairs;
    for (let word = 0; word < 8; word++) {
      const value = words[word]!;
      const pair = word * 4;
      pairs[pair] = HEX_PAIRS[value >>> 24]!;
      pairs[pair + 1] = HEX_PAIRS[(value >>> 16) & 255]!;
      pairs[pair + 2] = HEX_PAIRS[(value >>> 8) & 255]!;
      pairs[pair + 3] = HEX_PAIRS[value & 255]!;
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

const NOT_DIGITS = /\D/g;

/**
 * Writes a message into one lane of the lane hasher's input as a padded block that follows the key block, and returns
 * true. With `digitsOnly`, only the characters 0 to 9 are written. Returns false when the message does not fit one
 * block as ASCII, and, with `digitsOnly`, when it has no digits.
 */
function packLane(message: string, words: Int32Array, base: number, digitsOnly: boolean): boolean {
  let word = 0;
  let length = 0;
  for (let index = 0; index < message.length; index++) {
    const code = message.charCodeAt(index);
    if (digitsOnly ? code < 0x30 || code > 0x39 : code >= 0x80) {
      if (digitsOnly) continue;
      return false;
    }
    if (length === MAX_LANE_MESSAGE_BYTES) return false;
    word = (word << 8) | code;
    length += 1;
    if ((length & 3) === 0) {
      words[base + ((length >> 2) - 1) * 4] = word;
      word = 0;
    }
  }
  if (digitsOnly && length === 0) return false;

  // The 0x80 byte that ends the message, then zero bytes, then the length in bits in the last two words.
  const used = length & 3;
  word = (word << 8) | 0x80;
  if (used < 3) word <<= 8 * (3 - used);
  let t = length >> 2;
  words[base + t * 4] = word;
  for (t += 1; t < 14; t++) words[base + t * 4] = 0;
  words[base + 14 * 4] = 0;
  words[base + 15 * 4] = (BLOCK_BYTES + length) * 8;
  return true;
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
