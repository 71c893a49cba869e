/**
 * HMAC-SHA-256 of many short messages at once, four at a time in the lanes of WebAssembly SIMD vectors. A records page
 * pseudonymises one value per row, and the scalar compression function in sha256-blocks.ts was the largest cost of
 * a release after the database. Each lane runs the same rounds on its own message, so four HMACs cost about one
 * scalar HMAC's instructions.
 *
 * The module is generated here, instruction by instruction, from the round definitions of FIPS 180-4 section 6.2.2,
 * so there is no binary to trust. keyed-hash.test.ts checks its output against Node's createHmac.
 *
 * Memory layout, in bytes. The inner and outer padded-key states are 8 four-lane vectors each, at 0 and 128. The
 * messages start at INPUT_OFFSET, each group of four as 16 vectors, with word t of lane l at group + 16t + 4l. The
 * digests start at OUTPUT_OFFSET, each group as 8 vectors in the same order. Every message is one block after the
 * key block: at most 55 bytes, padded and with its bit length written by the caller.
 */
import { endianness } from 'node:os';
import { ROUND_CONSTANTS } from './sha256-blocks.ts';

const LANES = 4;
const STATE_OFFSET = { inner: 0, outer: 128 } as const;
const INPUT_OFFSET = 1024;
/** Groups of four messages per call; inputs and outputs then fill 24 KiB of the module's one 64 KiB page. */
export const MAX_GROUPS = 64;
const OUTPUT_OFFSET = INPUT_OFFSET + MAX_GROUPS * 256;
/** The maximum message length in bytes that fits in one block with its padding (1 byte) and bit length (8 bytes). */
export const MAX_LANE_MESSAGE_BYTES = 55;

// Opcodes (WebAssembly core specification 1.0 and its fixed-width SIMD extension).
const OP = {
  loop: 0x03,
  end: 0x0b,
  brIf: 0x0d,
  localGet: 0x20,
  localSet: 0x21,
  localTee: 0x22,
  i32Const: 0x41,
  i32Add: 0x6a,
  i32Sub: 0x6b,
  simd: 0xfd,
} as const;
const SIMD = { load: 0x00, store: 0x0b, const: 0x0c, and: 0x4e, or: 0x50, xor: 0x51, bitselect: 0x52, shl: 0xab, shrU: 0xad, add: 0xae } as const;
const TYPE = { i32: 0x7f, v128: 0x7b } as const;

function unsignedLeb(value: number): number[] {
  const bytes: number[] = [];
  do {
    let byte = value & 0x7f;
    value >>>= 7;
    if (value !== 0) byte |= 0x80;
    bytes.push(byte);
  } while (value !== 0);
  return bytes;
}

function signedLeb(value: number): number[] {
  const bytes: number[] = [];
  for (;;) {
    const byte = value & 0x7f;
    value >>= 7;
    const done = (value === 0 && (byte & 0x40) === 0) || (value === -1 && (byte & 0x40) !== 0);
    bytes.push(done ? byte : byte | 0x80);
    if (done) return bytes;
  }
}

function section(id: number, content: number[]): number[] {
  return [id, ...unsignedLeb(content.length), ...content];
}

function name(text: string): number[] {
  return [...unsignedLeb(text.length), ...Buffer.from(text, 'ascii')];
}

/** Emits the body of `hash(groups)`: for each group, the inner block then the outer block of four HMACs. */
class BodyWriter {
  readonly code: number[] = [];
  // Locals: 0 is the parameter (groups left), then the input and output addresses, then the vectors.
  readonly input = 1;
  readonly output = 2;
  readonly state = [3, 4, 5, 6, 7, 8, 9, 10];
  readonly words = Array.from({ length: 16 }, (_, index) => 11 + index);
  readonly temp1 = 27;
  readonly vectorLocals = 25;

  private emit(...bytes: number[]): void {
    for (const byte of bytes) this.code.push(byte);
  }

  private simd(op: number): void {
    this.emit(OP.simd, ...unsignedLeb(op));
  }

  private get(local: number): void {
    this.emit(OP.localGet, local);
  }

  private set(local: number): void {
    this.emit(OP.localSet, local);
  }

  private i32(value: number): void {
    this.emit(OP.i32Const, ...signedLeb(value));
  }

  /** Loads the vector at `offset` from the address in `base`, or from address 0 when `base` is null. */
  private load(base: number | null, offset: number): void {
    if (base === null) this.i32(0);
    else this.get(base);
    this.simd(SIMD.load);
    this.emit(4, ...unsignedLeb(offset));
  }

  private splat(value: number): void {
    this.simd(SIMD.const);
    const bytes = Buffer.alloc(16);
    for (let lane = 0; lane < LANES; lane++) bytes.writeInt32LE(value | 0, lane * 4);
    this.emit(...bytes);
  }

  private rotateRight(local: number, bits: number): void {
    this.get(local);
    this.i32(bits);
    this.simd(SIMD.shrU);
    this.get(local);
    this.i32(32 - bits);
    this.simd(SIMD.shl);
    this.simd(SIMD.or);
  }

  /** Pushes rotr(x, r1) ^ rotr(x, r2) ^ (rotr(x, r3) or x >>> r3). */
  private sigma(local: number, r1: number, r2: number, r3: number, shiftLast: boolean): void {
    this.rotateRight(local, r1);
    this.rotateRight(local, r2);
    this.simd(SIMD.xor);
    if (shiftLast) {
      this.get(local);
      this.i32(r3);
      this.simd(SIMD.shrU);
    } else {
      this.rotateRight(local, r3);
    }
    this.simd(SIMD.xor);
  }

  /** Pushes the schedule word t, computing words from 16 on in a window of 16 locals. */
  private scheduleWord(t: number): void {
    const w = this.words;
    if (t < 16) {
      this.get(w[t]!);
      return;
    }
    this.sigma(w[(t - 2) % 16]!, 17, 19, 10, true);
    this.get(w[(t - 7) % 16]!);
    this.simd(SIMD.add);
    this.sigma(w[(t - 15) % 16]!, 7, 18, 3, true);
    this.simd(SIMD.add);
    this.get(w[t % 16]!);
    this.simd(SIMD.add);
    this.emit(OP.localTee, w[t % 16]!);
  }

  /** Emits the 64 rounds on the state locals. Each round renames the locals instead of moving eight values. */
  private rounds(roundConstants: Int32Array): void {
    let [a, b, c, d, e, f, g, h] = this.state as [number, number, number, number, number, number, number, number];
    for (let t = 0; t < 64; t++) {
      // temp1 = h + Σ1(e) + Ch(e, f, g) + K[t] + W[t], where Ch is a bit select of f and g by e.
      this.get(h);
      this.sigma(e, 6, 11, 25, false);
      this.simd(SIMD.add);
      this.get(f);
      this.get(g);
      this.get(e);
      this.simd(SIMD.bitselect);
      this.simd(SIMD.add);
      this.splat(roundConstants[t]!);
      this.simd(SIMD.add);
      this.scheduleWord(t);
      this.simd(SIMD.add);
      this.set(this.temp1);
      // The new e is d + temp1, kept in d's local.
      this.get(d);
      this.get(this.temp1);
      this.simd(SIMD.add);
      this.set(d);
      // The new a is temp1 + Σ0(a) + Maj(a, b, c), kept in h's local. Maj picks c where a and b differ, else a.
      this.get(this.temp1);
      this.sigma(a, 2, 13, 22, false);
      this.simd(SIMD.add);
      this.get(c);
      this.get(a);
      this.get(a);
      this.get(b);
      this.simd(SIMD.xor);
      this.simd(SIMD.bitselect);
      this.simd(SIMD.add);
      this.set(h);
      [a, b, c, d, e, f, g, h] = [h, a, b, c, d, e, f, g];
    }
  }

  /** Sets the state locals to the stored state at `offset`. */
  private loadState(offset: number): void {
    this.state.forEach((local, index) => {
      this.load(null, offset + index * 16);
      this.set(local);
    });
  }

  /** Adds the stored state at `offset` to the state locals, which finishes one block. */
  private addState(offset: number): void {
    this.state.forEach((local, index) => {
      this.get(local);
      this.load(null, offset + index * 16);
      this.simd(SIMD.add);
      this.set(local);
    });
  }

  write(roundConstants: Int32Array): number[] {
    this.i32(INPUT_OFFSET);
    this.set(this.input);
    this.i32(OUTPUT_OFFSET);
    this.set(this.output);
    this.emit(OP.loop, 0x40);

    // Inner hash: the padded message block after the inner key block.
    this.loadState(STATE_OFFSET.inner);
    this.words.forEach((local, t) => {
      this.load(this.input, t * 16);
      this.set(local);
    });
    this.rounds(roundConstants);
    this.addState(STATE_OFFSET.inner);

    // Outer hash: the 32-byte inner digest, padding and the bit length of 96 bytes, after the outer key block.
    this.state.forEach((local, index) => {
      this.get(local);
      this.set(this.words[index]!);
    });
    this.splat(0x80000000);
    this.set(this.words[8]!);
    for (let t = 9; t < 15; t++) {
      this.splat(0);
      this.set(this.words[t]!);
    }
    this.splat((64 + 32) * 8);
    this.set(this.words[15]!);
    this.loadState(STATE_OFFSET.outer);
    this.rounds(roundConstants);
    this.addState(STATE_OFFSET.outer);
    this.state.forEach((local, index) => {
      this.get(this.output);
      this.get(local);
      this.simd(SIMD.store);
      this.emit(4, ...unsignedLeb(index * 16));
    });

    // Next group, until none are left.
    for (const [local, step] of [[this.input, 256], [this.output, 128]] as const) {
      this.get(local);
      this.i32(step);
      this.emit(OP.i32Add);
      this.set(local);
    }
    this.get(0);
    this.i32(1);
    this.emit(OP.i32Sub);
    this.emit(OP.localTee, 0);
    this.emit(OP.brIf, 0);
    this.emit(OP.end);
    this.emit(OP.end);

    const locals = [2, ...unsignedLeb(2), TYPE.i32, ...unsignedLeb(this.vectorLocals), TYPE.v128];
    return [...locals, ...this.code];
  }
}

function moduleBytes(): Uint8Array<ArrayBuffer> {
  const body = new BodyWriter().write(ROUND_CONSTANTS);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, [1, 0x60, 1, TYPE.i32, 0]),
    ...section(3, [1, 0]),
    ...section(5, [1, 0, 1]),
    ...section(7, [2, ...name('memory'), 2, 0, ...name('hash'), 0, 0]),
    ...section(10, [1, ...unsignedLeb(body.length), ...body]),
  ];
  return new Uint8Array(bytes);
}

/** The compiled module and its memory, shared by every keyed hash in the process (calls are synchronous). */
export interface LaneHasher {
  /** The module's memory as 32-bit words. */
  words: Int32Array;
  /** Hashes `groups` groups of four messages already written to memory. */
  hash(groups: number): void;
}

/** Offsets in 32-bit words of the module's memory; `end` is just past the last group's digests. */
export const LANE_LAYOUT = {
  inner: STATE_OFFSET.inner / 4,
  outer: STATE_OFFSET.outer / 4,
  input: INPUT_OFFSET / 4,
  output: OUTPUT_OFFSET / 4,
  end: (OUTPUT_OFFSET + MAX_GROUPS * 128) / 4,
};

let shared: LaneHasher | null | undefined;

/**
 * Returns the shared hasher, or null where WebAssembly SIMD is not available or the machine is big-endian, because
 * typed-array views would then disagree with WebAssembly's little-endian memory. Callers then hash one at a time.
 */
export function laneHasher(): LaneHasher | null {
  if (shared !== undefined) return shared;
  const bytes = moduleBytes();
  if (typeof WebAssembly !== 'object' || endianness() !== 'LE' || !WebAssembly.validate(bytes)) {
    shared = null;
    return shared;
  }
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  const memory = instance.exports.memory as WebAssembly.Memory;
  const hash = instance.exports.hash as (groups: number) => void;
  shared = { words: new Int32Array(memory.buffer), hash };
  return shared;
}

