import type { TableSchemaField } from '../ingest/table-schema.ts';
import { yearOfDate } from '../privacy/identifiers.ts';
import type { TransparencySchema } from './schemas/index.ts';

/** Most problems one report lists; the count covers all of them. */
export const MAX_REPORTED_PROBLEMS = 1000;

export interface TransparencyProblem {
  /** 1-based data row; absent for a problem with the whole file, such as a missing column. */
  row?: number;
  field: string;
  code: 'missing_field' | 'missing_value' | 'wrong_type' | 'out_of_range' | 'pattern_mismatch' | 'not_allowed';
  message: string;
}

export interface TransparencyReport {
  schema: string;
  title: string;
  valid: boolean;
  missing_fields: string[];
  problem_count: number;
  problems: TransparencyProblem[];
}

/** Header spelling differences the check forgives: case, spaces, underscores and hyphens. */
function headerKey(header: string): string {
  return header.toLowerCase().replace(/[\s_-]+/g, '');
}

const NUMBER = /^-?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?$/;
const INTEGER = /^-?\d+$/;
const BOOLEAN = /^(true|false|yes|no|y|n|1|0)$/i;

/** Reads a number the way spending files write it: thousands separators and a leading £ are allowed. */
function parseNumber(value: string): number | null {
  const plain = value.replace(/^(-?)£/, '$1').replace(/^£(-)/, '$1');
  return NUMBER.test(plain) ? Number(plain.replace(/,/g, '')) : null;
}

/**
 * Checks a file against a Transparency Code schema: every required field that is missing, then, row by row, every
 * missing required value, wrong type and out-of-range value, so one report lists all the problems.
 */
export class TransparencyValidator {
  private readonly columns: Array<{ field: TableSchemaField; index: number }> = [];
  private readonly missing: string[] = [];
  private readonly problems: TransparencyProblem[] = [];
  private problemCount = 0;

  constructor(
    private readonly definition: TransparencySchema,
    headers: readonly string[],
  ) {
    const positions = new Map(headers.map((header, index) => [headerKey(header), index]));
    for (const field of definition.schema.fields) {
      const index = positions.get(headerKey(field.name));
      if (index !== undefined) this.columns.push({ field, index });
      else if (field.constraints?.required) this.missing.push(field.name);
    }
    for (const name of this.missing) {
      this.add({ field: name, code: 'missing_field', message: `The required column ${name} is missing. Add it to the file with that header.` });
    }
  }

  checkRow(row: number, values: ReadonlyArray<string | null>): void {
    for (const { field, index } of this.columns) {
      const value = (values[index] ?? '').trim();
      if (value === '') {
        if (field.constraints?.required) this.add({ row, field: field.name, code: 'missing_value', message: `Row ${row}: ${field.name} is empty. Enter a value.` });
        continue;
      }
      const problem = checkValue(field, value);
      if (problem) this.add({ row, field: field.name, code: problem.code, message: `Row ${row}: ${field.name} ${problem.message}` });
    }
  }

  report(): TransparencyReport {
    return {
      schema: this.definition.name,
      title: this.definition.title,
      valid: this.problemCount === 0,
      missing_fields: [...this.missing],
      problem_count: this.problemCount,
      problems: [...this.problems],
    };
  }

  private add(problem: TransparencyProblem): void {
    this.problemCount += 1;
    if (this.problems.length < MAX_REPORTED_PROBLEMS) this.problems.push(problem);
  }
}

function checkValue(field: TableSchemaField, value: string): { code: TransparencyProblem['code']; message: string } | null {
  const constraints = field.constraints ?? {};
  let numeric: number | null = null;
  switch (field.type) {
    case 'number':
      numeric = parseNumber(value);
      if (numeric === null) return { code: 'wrong_type', message: `is "${value}", which is not a number. Write an amount such as 1250.50.` };
      break;
    case 'integer':
      if (!INTEGER.test(value)) return { code: 'wrong_type', message: `is "${value}", which is not a whole number.` };
      numeric = Number(value);
      break;
    case 'date':
    case 'datetime':
      if (yearOfDate(value) === null) return { code: 'wrong_type', message: `is "${value}", which is not a date. Write dates as YYYY-MM-DD.` };
      break;
    case 'boolean':
      if (!BOOLEAN.test(value)) return { code: 'wrong_type', message: `is "${value}". Write true or false.` };
      break;
    case 'string':
      break;
  }
  if (numeric !== null && typeof constraints.minimum === 'number' && numeric < constraints.minimum) {
    return { code: 'out_of_range', message: `is ${value}, below the minimum of ${constraints.minimum}.` };
  }
  if (numeric !== null && typeof constraints.maximum === 'number' && numeric > constraints.maximum) {
    return { code: 'out_of_range', message: `is ${value}, above the maximum of ${constraints.maximum}.` };
  }
  if (constraints.pattern && !new RegExp(constraints.pattern).test(value)) {
    // The value is left out: a mismatched identifier (a VAT number, a postcode) may belong to a person.
    return { code: 'pattern_mismatch', message: `is not in the expected format (${constraints.pattern}).` };
  }
  if (constraints.enum && !constraints.enum.map(String).includes(value)) {
    return { code: 'not_allowed', message: `is not an allowed value. Use one of: ${constraints.enum.join(', ')}.` };
  }
  if (constraints.maxLength !== undefined && value.length > constraints.maxLength) {
    return { code: 'out_of_range', message: `is longer than ${constraints.maxLength} characters.` };
  }
  return null;
}
