/**
 * Reads a UTF-8 CSV file for the analysis with the native lane (native-lane.ts). Records come from the TypeScript
 * tokenizer as with any file. Whenever the analysis has a plan for the lane, the lane reads the bytes that follow
 * instead, until it reaches a record it leaves to the tokenizer or the records it keeps back for the end of the file.
 */
import fs from 'node:fs';
import { CsvTokenizer, type SourceRecord } from './csv-tokenizer.ts';
import { sniffDelimiter } from './dialect.ts';
import { LaneStop, type LanePlan, type LaneRun, type NativeLane } from './native-lane.ts';

/** Bytes decoded per step of the TypeScript path, as decodeFile reads them. */
const DECODE_BYTES = 256 * 1024;
/** Characters read before the delimiter is sniffed, as openCsv reads them. */
const SNIFF_CHARS = 64 * 1024;
/**
 * Bytes the lane reads per call: small enough that a call blocks the event loop for a few milliseconds only, so the COPY
 * socket keeps draining.
 */
const LANE_WINDOW_BYTES = 2 * 1024 * 1024;

/** The analysis's side of the lane. */
export interface LaneHooks {
  /** Complete records the lane leaves at the end of the file for the analysis. */
  readonly holdBack: number;
  /**
   * Returns a plan when every column has settled, after the analysis has processed every record it holds back, or
   * null when the lane cannot take the next records.
   */
  plan(): { plan: LanePlan; firstId: number; lengths: Float64Array; values: Float64Array } | null;
  /** Takes the rows of one call of the lane, with the counts it raised in the arrays `plan` returned. */
  apply(run: LaneRun): void;
}

/** Returns the length of the UTF-8 sequence a lead byte starts. */
function sequenceLength(lead: number): number {
  if (lead < 0xc0) return 1;
  if (lead < 0xe0) return 2;
  return lead < 0xf0 ? 3 : 4;
}

/** Returns the end of the last complete UTF-8 character in buffer[from, end). */
function completeEnd(buffer: Buffer, from: number, end: number): number {
  let lead = end - 1;
  while (lead > from && (buffer[lead]! & 0xc0) === 0x80) lead--;
  if (lead < from) return end;
  return lead + sequenceLength(buffer[lead]!) <= end ? end : lead;
}

export class LaneReader {
  private window = Buffer.allocUnsafe(LANE_WINDOW_BYTES);
  /** File offset of window[0]. */
  private windowStart = 0;
  /** Bytes of the window holding file data. */
  private filled = 0;
  /** Window position of the next byte neither path has read. */
  private position = 0;
  private endOfFile = false;
  private tokenizer: CsvTokenizer | null = null;
  /** File offset of the last record the lane left to the tokenizer, which must read past it before the lane runs again. */
  private leftAt = -1;
  private delimiterCode = 0;

  private constructor(
    private readonly handle: fs.promises.FileHandle,
    private readonly lane: NativeLane,
    private readonly onBytes: ((bytesRead: number) => void) | undefined,
  ) {}

  /**
   * Opens the file, skips a byte-order mark and sniffs the delimiter from the first characters, as openCsv does, unless
   * `delimiter` is given.
   */
  static async open(filePath: string, filename: string, lane: NativeLane, delimiter: string | null, onBytes?: (bytesRead: number) => void): Promise<{ reader: LaneReader; delimiter: string }> {
    const handle = await fs.promises.open(filePath, 'r');
    try {
      const reader = new LaneReader(handle, lane, onBytes);
      await reader.fill();
      if (reader.window[0] === 0xef && reader.window[1] === 0xbb && reader.window[2] === 0xbf) reader.position = 3;
      // The sample ends where openCsv's would: at the end of the first 256 KB piece of the file that brings it to
      // SNIFF_CHARS characters. It is complete only when the whole file has fewer characters.
      let sample = '';
      let sampleEnd = reader.position;
      while (sample.length < SNIFF_CHARS && sampleEnd < reader.filled) {
        const pieceEnd = (Math.floor(sampleEnd / DECODE_BYTES) + 1) * DECODE_BYTES;
        const stop = reader.cutAt(Math.min(pieceEnd, reader.filled), sampleEnd);
        sample += reader.window.toString('utf8', sampleEnd, stop);
        sampleEnd = stop;
      }
      const chosen = delimiter ?? sniffDelimiter(sample, sample.length < SNIFF_CHARS);
      reader.tokenizer = new CsvTokenizer(chosen, filename);
      reader.delimiterCode = chosen.charCodeAt(0);
      return { reader, delimiter: chosen };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  /** Yields batches of records for the analysis; an empty batch follows rows the lane took. */
  async *batches(hooks: LaneHooks): AsyncGenerator<SourceRecord[]> {
    try {
      for (;;) {
        const records: SourceRecord[] = [];
        const more = await this.decodeStep(records);
        if (records.length > 0) yield records;
        if (!more) break;
        // An empty batch after each call lets the analysis send the rows on before the next.
        while (await this.laneStep(hooks)) yield [];
      }
      const last: SourceRecord[] = [];
      this.tokenizer!.end(last);
      if (last.length > 0) yield last;
    } finally {
      await this.handle.close();
    }
  }

  /** Decodes and tokenizes the next stretch of bytes. Returns false at the end of the file. */
  private async decodeStep(records: SourceRecord[]): Promise<boolean> {
    // The window keeps the tokenizer's open record, which the lane may be handed next.
    if (this.filled - this.position < DECODE_BYTES && !this.endOfFile) await this.fill(this.openRecordStart());
    if (this.position >= this.filled && this.endOfFile) return false;
    const stop = this.cutAt(Math.min(this.position + DECODE_BYTES, this.filled), this.position);
    this.tokenizer!.push(this.window.toString('utf8', this.position, stop), records);
    this.position = stop;
    this.onBytes?.(this.windowStart + this.position);
    return true;
  }

  /**
   * Hands the bytes from the tokenizer's open record on to one call of the lane, when the analysis has a plan for it.
   * Returns true when the lane took rows and can take more. The tokenizer keeps its open record unless the lane runs.
   */
  private async laneStep(hooks: LaneHooks): Promise<boolean> {
    const tokenizer = this.tokenizer!;
    let start = this.openRecordStart();
    // The lane left the record at this offset to the tokenizer, which has not finished it yet.
    if (this.windowStart + start <= this.leftAt) return false;
    if (this.filled - start < LANE_WINDOW_BYTES / 2 && !this.endOfFile) start -= await this.fill(start);
    const complete = this.lane.countRecords(this.window, start, this.filled, this.delimiterCode, hooks.holdBack + 1);
    if (complete <= hooks.holdBack) return false;
    const planned = hooks.plan();
    if (planned === null) return false;
    tokenizer.takeOpenRecord();
    const run = this.lane.encode(this.window, start, this.filled, planned.plan, planned.firstId, planned.lengths, planned.values);
    if (run.stop === LaneStop.unhandled) this.leftAt = this.windowStart + start + run.consumed;
    this.position = start + run.consumed;
    tokenizer.skipLines(run.lines);
    hooks.apply(run);
    this.onBytes?.(this.windowStart + this.position);
    return run.rows > 0 && run.stop !== LaneStop.unhandled;
  }

  /** Window position where the tokenizer's open record starts, or the read position when it has none. */
  private openRecordStart(): number {
    const open = this.tokenizer!.openRecord;
    return open.length === 0 ? this.position : this.position - Buffer.byteLength(open, 'utf8');
  }

  /**
   * Moves the bytes from `keep` (by default the unread ones) to the front of the window and reads more of the file after
   * them. Returns how many bytes the window dropped from its front.
   */
  private async fill(keep = this.position): Promise<number> {
    if (keep > 0) {
      this.window.copy(this.window, 0, keep, this.filled);
      this.windowStart += keep;
      this.filled -= keep;
      this.position -= keep;
    }
    if (this.filled === this.window.length) {
      const grown = Buffer.allocUnsafe(this.window.length * 2);
      this.window.copy(grown, 0, 0, this.filled);
      this.window = grown;
    }
    while (this.filled < this.window.length && !this.endOfFile) {
      const { bytesRead } = await this.handle.read(this.window, this.filled, this.window.length - this.filled, this.windowStart + this.filled);
      if (bytesRead === 0) this.endOfFile = true;
      this.filled += bytesRead;
    }
    return keep;
  }

  /** Returns `at`, moved back to the start of a character that is not complete before it. */
  private cutAt(at: number, from: number): number {
    if (at >= this.filled && this.endOfFile) return this.filled;
    return completeEnd(this.window, from, at);
  }
}
