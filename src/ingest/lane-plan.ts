/** The analysis's side of the native lane's plan: which check each cell of a row gets. */
import type { ColumnProfile } from './inference.ts';
import { LaneKind, type LaneColumn } from './native-lane.ts';
import type { DecimalMark } from './numbers.ts';
import type { TableSchema } from './table-schema.ts';

export interface LaneState {
  /** The early load's schema while it writes binary COPY, else null. */
  schema: TableSchema | null;
  /** Columns the schema would have if the file ended here. */
  width: number;
  /** Cells of the rows the lane is to read. */
  rowLength: number;
  decimal: DecimalMark;
  /** Each column's inference, null for a column that a user-supplied schema types. */
  profiles: Array<ColumnProfile | null>;
}

/**
 * Describes each cell of a row to the native lane, or returns null while some column has not settled on the type the
 * early load converts it to. Cells after the schema's fields must be blank.
 */
export function describeLaneColumns(state: LaneState): LaneColumn[] | null {
  const { schema, width, rowLength, decimal, profiles } = state;
  if (!schema || decimal !== '.' || schema.fields.length !== width || rowLength < width) return null;
  const described: LaneColumn[] = [];
  for (let c = 0; c < rowLength; c++) {
    if (c >= width) {
      described.push({ kind: LaneKind.blank });
      continue;
    }
    const field = schema.fields[c]!;
    const profile = profiles[c];
    const settled = profile?.settledType();
    if (settled === 'text' && field.type === 'string') {
      described.push({ kind: LaneKind.text });
    } else if (field.decimalChar !== undefined || field.bareNumber === false) {
      return null;
    } else if (settled === 'integer' && field.type === 'integer') {
      described.push({ kind: LaneKind.integer });
    } else if (settled === 'number' && field.type === 'number') {
      described.push({ kind: LaneKind.number });
    } else if (settled === 'date' && field.type === 'date' && field.format !== undefined && profile!.dateFormats.includes(field.format)) {
      described.push({ kind: LaneKind.date, formats: [field.format, ...profile!.dateFormats] });
    } else {
      return null;
    }
  }
  return described;
}
