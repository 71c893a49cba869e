/**
 * Frictionless Table Schema (https://specs.frictionlessdata.io/table-schema/), the subset Civic Exchange reads and
 * writes. `name` is the column id used by the APIs and the database; `title` is the exact original header.
 */
export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'datetime';

export const FIELD_TYPES: readonly FieldType[] = ['string', 'integer', 'number', 'boolean', 'date', 'datetime'];

export interface FieldConstraints {
  required?: boolean;
  unique?: boolean;
  minimum?: number | string;
  maximum?: number | string;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  enum?: Array<string | number>;
}

export interface TableSchemaField {
  name: string;
  title: string;
  type: FieldType;
  /** strftime pattern for dates such as `%d/%m/%Y`, or `default` (ISO 8601) or `any`. */
  format?: string;
  description?: string;
  constraints?: FieldConstraints;
  /** Cell texts read as null in this field only, such as `****` in a numeric column (Table Schema v2). */
  missingValues?: string[];
  /** The decimal mark of a number field, `.` or `,`. */
  decimalChar?: string;
  /** False when numbers may carry a per cent sign, as in `12.5%`, which is read as 12.5. */
  bareNumber?: boolean;
  trueValues?: string[];
  falseValues?: string[];
}

export interface TableSchema {
  fields: TableSchemaField[];
  missingValues?: string[];
  primaryKey?: string | string[];
}
