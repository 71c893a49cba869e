/**
 * Frictionless Table Schema (https://specs.frictionlessdata.io/table-schema/), the subset Civic Exchange reads and
 * writes. `name` is the column id used by the APIs and the database; `title` is the exact original header.
 */
export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'date' | 'datetime';

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
  format?: string;
  description?: string;
  constraints?: FieldConstraints;
}

export interface TableSchema {
  fields: TableSchemaField[];
  missingValues?: string[];
  primaryKey?: string | string[];
}
