/**
 * Per-field value converters shared by both passes, so the analysis checks exactly what the load writes. A converter
 * takes trimmed, non-blank cell text and returns the text PostgreSQL reads for the column type, or null when the text
 * does not fit the field.
 */
import { compileDateFormat, compileDatetimeFormat, DATE_FORMATS, type DateParser } from './dates.ts';
import { isIntegerText, parseDecimal, type DecimalMark } from './numbers.ts';
import type { TableSchemaField } from './table-schema.ts';

export type Converter = (trimmed: string) => string | null;

const BOOLEAN_WORDS = new Map<string, 't' | 'f'>([
  ['true', 't'], ['false', 'f'], ['yes', 't'], ['no', 'f'], ['y', 't'], ['n', 'f'],
]);

/** Returns `t` or `f` for true/false, yes/no and y/n in any case; 1 and 0 are left to the integer type. */
export function parseBoolean(trimmed: string): 't' | 'f' | null {
  if (trimmed.length > 5) return null;
  return BOOLEAN_WORDS.get(trimmed.toLowerCase()) ?? null;
}

function booleanWithValues(field: TableSchemaField): Converter {
  const trueValues = new Set(field.trueValues ?? []);
  const falseValues = new Set(field.falseValues ?? []);
  if (trueValues.size === 0 && falseValues.size === 0) return parseBoolean;
  return (text) => (trueValues.has(text) ? 't' : falseValues.has(text) ? 'f' : null);
}

function anyDate(): DateParser {
  const parsers = DATE_FORMATS.map((format) => compileDateFormat(format)!);
  return (text) => {
    for (const parse of parsers) {
      const value = parse(text);
      if (value !== null) return value;
    }
    return null;
  };
}

/** Dates repeat heavily in council files (a month of payments has about 30), so parsed values are remembered. */
const MEMO_LIMIT = 10_000;

function memoise(parse: DateParser): Converter {
  const memo = new Map<string, string | null>();
  return (text) => {
    let value = memo.get(text);
    if (value !== undefined) return value;
    value = parse(text);
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(text, value);
    return value;
  };
}

/**
 * Returns a number's text without a trailing per cent sign (and the spaces before it), as Table Schema reads numbers
 * when `bareNumber` is false. Other text is returned as it is.
 */
export function withoutPercentSign(text: string): string {
  return text.endsWith('%') ? text.slice(0, -1).trimEnd() : text;
}

/**
 * Builds the converter of a field. `decimal` is the file's decimal mark, which a field's own `decimalChar` overrides.
 * Throws when the field's format is one ingest cannot read.
 */
export function makeConverter(field: TableSchemaField, decimal: DecimalMark): Converter {
  switch (field.type) {
    case 'string':
      return (text) => text;
    case 'integer': {
      const mark = (field.decimalChar as DecimalMark | undefined) ?? decimal;
      const bare = field.bareNumber !== false;
      return (text) => {
        const value = parseDecimal(bare ? text : withoutPercentSign(text), mark);
        return value !== null && isIntegerText(value) ? value : null;
      };
    }
    case 'number': {
      const mark = (field.decimalChar as DecimalMark | undefined) ?? decimal;
      if (field.bareNumber === false) return (text) => parseDecimal(withoutPercentSign(text), mark);
      return (text) => parseDecimal(text, mark);
    }
    case 'boolean':
      return booleanWithValues(field);
    case 'date': {
      const format = field.format ?? 'default';
      if (format === 'any') return memoise(anyDate());
      const parser = compileDateFormat(format === 'default' ? '%Y-%m-%d' : format);
      if (parser === null) throw new Error(`Unsupported date format ${format}`);
      return memoise(parser);
    }
    case 'datetime': {
      const parser = compileDatetimeFormat(field.format ?? 'default');
      if (parser === null) throw new Error(`Unsupported datetime format ${field.format ?? ''}`);
      return memoise(parser);
    }
  }
}
