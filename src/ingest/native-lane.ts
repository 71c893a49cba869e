/**
 * The native lane of the CSV analysis (native/csv_lane.cc). Once every column of a large UTF-8 file has settled on
 * its type, it tokenizes the records, checks each value against that type and writes the early load's binary COPY
 * tuples, several times faster than the TypeScript path. It stops before any record it might read otherwise than the
 * TypeScript path, and that path reads on from there. Such records hold a missing-value marker, a value that would
 * change a column's type, text after a closing quote or a row of another length.
 *
 * The lane is built by `npm ci` with node-gyp. Without a C++ compiler it is missing, and every import uses the
 * TypeScript path, which gives the same rows. `CIVIC_NATIVE_LANE=off` turns it off.
 */
import { createRequire } from 'node:module';

/** The check the lane applies to a column's cells. */
export const LaneKind = { blank: 0, text: 1, integer: 2, number: 3, date: 4 } as const;

export interface LaneColumn {
  kind: (typeof LaneKind)[keyof typeof LaneKind];
  /** For a date column: the early load's format first, then every format the column still fits. */
  formats?: string[];
}

/** One call's instructions: the dialect, the row shape and each column's settled type. */
export interface LanePlan {
  /** The delimiter's character code. */
  delimiter: number;
  /** Cells every record must have. */
  rowLength: number;
  /** Fields of the early load's schema; cells after them must be blank. */
  width: number;
  /** Complete records left at the end of the input, for the analysis's checks of the file's last rows. */
  holdBack: number;
  /** One per cell of a row. */
  columns: LaneColumn[];
}

/** Why a call stopped: the input ran out (less the held-back records), or a record needs the TypeScript path. */
export const LaneStop = { needMore: 0, unhandled: 1 } as const;

export interface LaneRun {
  /** Bytes read, up to the end of the last record taken. */
  consumed: number;
  /** Rows written, blank records not counted. */
  rows: number;
  /** Line breaks in the bytes read, quoted ones included. */
  lines: number;
  stop: (typeof LaneStop)[keyof typeof LaneStop];
  /** Binary COPY tuples, `_id` first, numbered from the call's first id, in the first outputLength bytes. */
  output: Buffer;
  outputLength: number;
}

export interface NativeLane {
  /**
   * Reads records of `input` from `start` to `end`. `lengths` contains each column's longest value in code points so
   * far (-1 for none), which the call raises. `values` gains each column's count of non-blank values, text columns
   * not counted.
   */
  encode(input: Buffer, start: number, end: number, plan: LanePlan, firstId: number, lengths: Float64Array, values: Float64Array): LaneRun;
  /** Counts the complete records of `input` from `start`, up to `limit`. */
  countRecords(input: Buffer, start: number, end: number, delimiter: number, limit: number): number;
}

/** Rows the lane has written in this process, for tests that check it ran. */
export const laneStats = { rows: 0 };

let loaded: NativeLane | null | undefined;

/** Returns the native lane, or null when it was not built or is turned off. */
export function nativeLane(): NativeLane | null {
  if (loaded !== undefined) return loaded;
  if (process.env.CIVIC_NATIVE_LANE === 'off') return (loaded = null);
  try {
    loaded = createRequire(import.meta.url)('../../native/build/Release/csv_lane.node') as NativeLane;
  } catch {
    loaded = null;
  }
  return loaded;
}
