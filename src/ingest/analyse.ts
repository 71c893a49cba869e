/**
 * Pass 1: reads the whole file once in constant memory and decides encoding, dialect, header, column ids, types and
 * the rows to load. Values that break a user-supplied Table Schema are collected here, so nothing is written for a
 * file that cannot load.
 */
import { makeColumnNames } from './column-names.ts';
import { makeConverter, type Converter } from './converters.ts';
import type { SourceRecord } from './csv-tokenizer.ts';
import { EarlyLoad } from './early-load.ts';
import { detectEncoding, isWholeFileUtf8, mixedEncodingWarning } from './encoding.ts';
import { ColumnProfile, type StrayValues } from './inference.ts';
import { IngestError, type FileAnalysis, type IngestOptions, type IngestSource, type IngestWarning } from './ingest.types.ts';
import { effectiveWidth, findHeaderEnd, findHeaderIndex, findTitle, stackHeaders, isBlankRecord, isBlankText, splitTail, type TailExclusion } from './layout.ts';
import type { DecimalMark } from './numbers.ts';
import { LaneReader, type LaneHooks } from './lane-reader.ts';
import { describeLaneColumns } from './lane-plan.ts';
import { laneStats, nativeLane, type LaneColumn, type LaneRun } from './native-lane.ts';
import { fileSize, formatOf, openCsv, openSheet } from './records.ts';
import { compositeKeyCheck } from './composite-key.ts';
import { compileConstraints, matchSchemaFields, type ConstraintCheck } from './schema-fields.ts';
import type { TableSchema, TableSchemaField } from './table-schema.ts';
import { chooseSheet } from './workbook.ts';
import { sentenceCase } from '../text.ts';

/** Records read before the header is chosen. */
const PREFIX_RECORDS = 300;
/** Records held back from inference until the end, so that summary and footer rows can be dropped. */
const TAIL_RECORDS = 200;
/** Schema violations reported before the analysis stops reading. */
export const MAX_REPORTED_VIOLATIONS = 100;

interface Violation {
  line: number;
  column: string;
  problem: string;
}

/** One column as pass 1 sees it: inferred, or checked against the user's field. */
interface ColumnState {
  profile: ColumnProfile | null;
  userField: TableSchemaField | undefined;
  convert: Converter | null;
  constraints: ConstraintCheck | null;
  required: boolean;
}

/** PostgreSQL's limit on the columns of a table; past it, CREATE TABLE fails with "tables can have at most 1600 columns". */
export const POSTGRES_MAX_COLUMNS = 1600;
/**
 * The maximum number of data columns a file may have, because the datastore table adds `_id`, the row number.
 * NOTE: a narrower file can still fail on PostgreSQL's limit of about 8 kB for one row, reached by roughly 1,000
 * columns of 8-byte numbers or dates (an estimate), and that error reaches the user untranslated.
 */
export const MAX_FILE_COLUMNS = POSTGRES_MAX_COLUMNS - 1;

/** The most columns a sheet can have (Excel's limit, XFD). */
const MAX_SHEET_COLUMNS = 16_384;

function columnState(userField: TableSchemaField | undefined, decimal: DecimalMark): ColumnState {
  return {
    profile: userField ? null : new ColumnProfile(decimal),
    userField,
    convert: userField ? makeConverter(userField, decimal) : null,
    constraints: userField ? compileConstraints(userField) : null,
    required: userField?.constraints?.required === true,
  };
}

/** Rejects a file with more columns than a datastore table can have, before anything is loaded. */
function checkColumnCount(count: number, source: IngestSource, headerLine: number, sheet: string | null): void {
  if (count <= MAX_FILE_COLUMNS) return;
  const where = sheet ? `row ${headerLine} of sheet ${sheet}` : `line ${headerLine}`;
  throw new IngestError(
    'too_many_columns',
    `${source.filename} has ${count} columns (header on ${where}), but a PostgreSQL table can have at most ${POSTGRES_MAX_COLUMNS} columns, ` +
      `and the catalogue uses one of them for the row number, so a file can have at most ${MAX_FILE_COLUMNS}. Split the columns into ` +
      'two or more files that each repeat the identifying columns and load each as its own dataset, or reshape the file so that ' +
      'each row holds one measure (long format), then import again; nothing was loaded.',
    { file: source.filename, line: headerLine, sheet: sheet ?? undefined },
  );
}

/** Shortens a value quoted in an error message. */
function clip(value: string): string {
  return value.length > 40 ? `${value.slice(0, 37)}...` : value;
}

function finishField(state: ColumnState, header: string, name: string): { field: TableSchemaField; warnings: IngestWarning[] } {
  if (state.userField) return { field: { ...state.userField, title: header }, warnings: [] };
  const inferred = state.profile!.result();
  const field: TableSchemaField = { name, title: header, type: inferred.type };
  const warnings: IngestWarning[] = [];
  if (inferred.format) field.format = inferred.format;
  if (inferred.bareNumber === false) {
    field.bareNumber = false;
    warnings.push({
      code: 'percentages_as_numbers',
      message: `Column "${header.trim() || name}" contains percentages such as 12.5%, which are loaded as numbers without the per cent sign (12.5), so they can be summed, charted and filtered.`,
      column: header,
    });
  }
  if (inferred.balanceMarked !== undefined) {
    warnings.push({
      code: 'balance_marks_as_signs',
      message: `Column "${header.trim() || name}" contains amounts with a balance mark, such as ${clip(inferred.balanceMarked)}, which are loaded as signed numbers: CR and a trailing minus as negative, DR as positive.`,
      column: header,
    });
  }
  if (!inferred.missingValues) return { field, warnings };
  field.missingValues = inferred.missingValues;
  const markers = inferred.missingValues.map((value) => `"${value}"`).join(', ');
  warnings.push({
    code: 'missing_value_markers',
    message: `Column "${header.trim() || name}" is numeric apart from ${inferred.missingCount} ${inferred.missingCount === 1 ? 'cell' : 'cells'} holding ${markers}, which are loaded as empty (null) values.`,
    column: header,
  });
  return { field, warnings };
}

/** Headers of identifier columns ("VAT reg no", "Company number", "Transaction ref"), but not counts ("Number of visits"). */
const IDENTIFIER_HEADER = /\b(id|code|ref|reference|no|nos|number|reg|registration|urn)\b/i;
const COUNT_HEADER = /\bnumber of\b/i;

/**
 * Returns whether a header names an identifier. Identifiers are often digits with a few written another way
 * ("GB 481 1093 07"), which are not slips in a numeric column, so they get no stray-values warning.
 */
function looksLikeIdentifier(header: string): boolean {
  return IDENTIFIER_HEADER.test(header) && !COUNT_HEADER.test(header);
}

/**
 * Warns that a few values kept a column as text, naming them with their lines and the two fixes. The inferred type
 * stays text, because guessing which values are slips would change the data without the publisher's consent.
 */
function strayValuesWarning(strays: StrayValues, name: string, header: string, sheet: string | null, filename: string): IngestWarning {
  const unit = sheet ? 'row' : 'line';
  const listed = strays.examples.map((stray) => `"${clip(stray.value)}" on ${unit} ${stray.line}`).join(', ');
  const more = strays.count > strays.examples.length ? ` and ${strays.count - strays.examples.length} more` : '';
  const typeName = strays.wouldBe === 'number' ? 'numeric' : 'a date column';
  const uses = strays.wouldBe === 'number' ? 'summed, charted or filtered as numbers' : 'sorted or filtered as dates';
  return {
    code: 'stray_values',
    message:
      `Column "${name}" would be ${typeName} but for ${strays.count} ${strays.count === 1 ? 'value' : 'values'}: ${listed}${more}${sheet ? ` of sheet ${sheet}` : ''} of ${filename}. ` +
      `It was loaded as text, so it cannot be ${uses}. Correct ${strays.count === 1 ? 'the value' : 'the values'} in the file, or supply a Table Schema ` +
      `that gives the column its type and lists such values in missingValues, then load the file again.`,
    line: strays.examples[0]!.line,
    column: header,
  };
}

/** Warns about summary rows one by one, and about each run of footer notes once. */
function exclusionWarnings(excluded: TailExclusion[], location: (line: number) => string, lineWord: 'line' | 'row'): IngestWarning[] {
  const warnings: IngestWarning[] = [];
  const footers = excluded.filter((exclusion) => exclusion.kind === 'footer');
  for (const exclusion of excluded) {
    if (exclusion.kind !== 'summary') continue;
    warnings.push({
      code: 'summary_row_excluded',
      message: `${sentenceCase(location(exclusion.line))} looks like a total, so it was not loaded as data.`,
      line: exclusion.line,
    });
  }
  if (footers.length > 0) {
    const first = footers[0]!.line;
    warnings.push({
      code: 'footer_rows_excluded',
      message:
        footers.length === 1
          ? `The note on ${location(first)} comes after the table, so it was not loaded as data.`
          : `${footers.length} note rows after the table, from ${location(first)} to ${lineWord} ${footers[footers.length - 1]!.line}, were not loaded as data.`,
      line: first,
    });
  }
  return warnings;
}

export async function analyseFile(source: IngestSource, options: IngestOptions = {}): Promise<FileAnalysis> {
  const format = formatOf(source);
  const size = await fileSize(source);
  const report = (bytes: number) => options.onProgress?.(bytes, size);

  let encoding = 'UTF-8';
  let delimiter: string | null = null;
  // The analysis takes part in the native lane once its columns exist; until then the lane has no plan.
  const laneHooks: LaneHooks & { ready: LaneHooks | null } = {
    holdBack: TAIL_RECORDS,
    ready: null,
    plan: () => laneHooks.ready?.plan() ?? null,
    apply: (run) => laneHooks.ready?.apply(run),
  };
  const encodingWarnings: IngestWarning[] = [];
  let sheet: string | null = null;
  let batches: AsyncGenerator<SourceRecord[]>;
  if (format === 'csv') {
    if (options.sheet !== undefined) {
      throw new IngestError('sheet_not_applicable', `${source.filename} is a text file with no sheets, so the sheet "${options.sheet}" cannot be chosen. Leave out the sheet, or import the workbook instead.`, {
        file: source.filename,
      });
    }
    const detected = await detectEncoding(source.path, source.filename);
    encoding = detected.encoding;
    if (detected.mixedUtf8) encodingWarnings.push(mixedEncodingWarning(source.filename, detected.encoding, detected.mixedUtf8));
    const lane = nativeLane();
    // The lane copies text cells as bytes, so the whole file must be valid UTF-8, which a byte-order mark alone does not show.
    const laneFits = lane !== null && options.earlyLoad?.binaryAllowed === true && options.schema === undefined && options.onValue === undefined && options.nativeLane !== false;
    if (laneFits && detected.encoding === 'UTF-8' && (!detected.bom || (await isWholeFileUtf8(source.path)))) {
      const opened = await LaneReader.open(source.path, source.filename, lane, null, report);
      delimiter = opened.delimiter;
      batches = opened.reader.batches(laneHooks);
    } else {
      const opened = await openCsv(source, detected.encoding, null, report);
      delimiter = opened.delimiter;
      batches = opened.batches;
    }
  } else {
    report(0);
    sheet = await chooseSheet(source, format, options.sheet);
    batches = openSheet(source, format, sheet);
  }
  const decimal: DecimalMark = delimiter === ';' ? ',' : '.';

  const prefix: SourceRecord[] = [];
  while (prefix.length < PREFIX_RECORDS) {
    const next = await batches.next();
    if (next.done) break;
    for (const record of next.value) prefix.push(record);
  }
  const headerIndex = findHeaderIndex(prefix);
  const where = sheet ? ` (sheet ${sheet})` : '';
  if (headerIndex === -1) {
    throw new IngestError('empty_file', `${source.filename}${where} has no data in it. Check that you chose the right file or sheet.`, {
      file: source.filename,
      sheet: sheet ?? undefined,
    });
  }
  const headerRecord = prefix[headerIndex]!;
  const headerEnd = findHeaderEnd(prefix, headerIndex, decimal);
  const headerRows = prefix.slice(headerIndex, headerEnd + 1).map((record) => record.cells);
  const headerCells = headerEnd > headerIndex ? stackHeaders(headerRows) : headerRecord.cells;
  const namedWidth = effectiveWidth(headerCells);
  // A CSV column with a blank header still holds data when the header row has a cell for it; in a workbook any
  // column right of the header may. Data beyond that limit is a surplus cell.
  const columnLimit = format === 'csv' ? Math.max(...headerRows.map((cells) => cells.length), namedWidth) : MAX_SHEET_COLUMNS;
  const headers = headerCells.slice(0, format === 'csv' ? columnLimit : namedWidth);
  checkColumnCount(headers.length, source, headerRecord.line, sheet);
  let columnIds = makeColumnNames(headers);
  const userFields = options.schema ? matchSchemaFields(options.schema, headers, columnIds, source.filename) : [];
  const userMissing = new Set(options.schema?.missingValues ?? []);
  const compositeKey = compositeKeyCheck(options.schema, userFields, headers);
  const columns: ColumnState[] = headers.map((_, c) => columnState(userFields[c], decimal));
  const addColumn = (): void => {
    headers.push('');
    columnIds = makeColumnNames(headers);
    columns.push(columnState(undefined, decimal));
  };
  let usedWidth = namedWidth;

  const violations: Violation[] = [];
  /** Longest stored value per column so far, in code points; -1 while the column has none. */
  const longest: number[] = [];
  const measure = (c: number, raw: string): void => {
    const known = longest[c] ?? -1;
    if (raw.length > known) longest[c] = Math.max(known, codePointLength(raw));
  };
  let rows = 0;
  /** Cells of the last row processed, the row length the native lane expects. */
  let lastLength = 0;
  /** Loaded rows by their number of cells, with the first line of each, to count short rows once the width is known. */
  const rowLengths = new Map<number, { count: number; firstLine: number }>();
  const location = (line: number) => `${sheet ? `row ${line} of sheet ${sheet}` : `line ${line}`} of ${source.filename}`;

  const fail = (): never => {
    const listed = violations.map((v) => `column "${v.column.trim()}" on ${sheet ? 'row' : 'line'} ${v.line} ${v.problem}`).join('; ');
    const more = violations.length >= MAX_REPORTED_VIOLATIONS ? ` The first ${MAX_REPORTED_VIOLATIONS} are listed; there may be more.` : '';
    throw new IngestError(
      'schema_violation',
      `${violations.length === 1 ? 'A value' : `${violations.length} values`} in ${source.filename} ${violations.length === 1 ? 'does' : 'do'} not fit the Table Schema: ${listed}.${more} Correct the file or the schema and import again; nothing was loaded.`,
      { file: source.filename, line: violations[0]!.line, column: violations[0]!.column, sheet: sheet ?? undefined },
    );
  };

  /** Builds the schema the file would get if it ended here, for the early load. */
  const guessSchema = (): TableSchema => {
    const width = Math.max(namedWidth, usedWidth);
    const ids = makeColumnNames(headers.slice(0, width));
    const fields: TableSchemaField[] = [];
    for (let c = 0; c < width; c++) fields.push(finishField(columns[c]!, headers[c]!, ids[c]!).field);
    return { fields, ...(options.schema?.missingValues ? { missingValues: options.schema.missingValues } : {}) };
  };
  const early = options.earlyLoad ? new EarlyLoad(options.earlyLoad, guessSchema, decimal) : null;

  // Without missing-value markers or a value hook, a cell of a column already known to be text needs only its length.
  const lengthOnlyForText = userMissing.size === 0 && options.onValue === undefined;

  /** Per column of the current row, the decimal text inference parsed, so the early load need not parse it again. */
  const parsedNumbers: Array<string | null | undefined> = [];
  const processRow = (record: SourceRecord): void => {
    const cells = record.cells;
    if (isBlankRecord(cells)) return;
    const width = effectiveWidth(cells);
    if (width > columnLimit) {
      throw new IngestError(
        'surplus_cell',
        `${location(record.line)} has a value in column ${width}, but the header on ${sheet ? 'row' : 'line'} ${headerRecord.line} has only ${columnLimit} columns. If a value contains the delimiter "${delimiter ?? ','}", put the whole field in double quotes; otherwise remove the extra value or add a header for it, then import again.`,
        { file: source.filename, line: record.line, sheet: sheet ?? undefined },
      );
    }
    if (width > usedWidth) usedWidth = width;
    while (columns.length < width) addColumn();
    lastLength = cells.length;
    const lengthSeen = rowLengths.get(cells.length);
    if (lengthSeen) lengthSeen.count++;
    else rowLengths.set(cells.length, { count: 1, firstLine: record.line });
    rows++;

    for (let c = 0; c < columns.length; c++) {
      const raw = cells[c];
      const state = columns[c]!;
      parsedNumbers[c] = undefined;
      if (raw === undefined || isBlankText(raw)) {
        if (state.required) violations.push({ line: record.line, column: headers[c]!, problem: 'is missing but the field is required' });
        continue;
      }
      if (raw.includes('\u0000')) throw nulCharacter(source.filename, location(record.line), headers[c]!.trim() || columnIds[c]!, record.line, sheet);
      const profile = state.profile;
      if (lengthOnlyForText && profile !== null && profile.isTextOnly) {
        measure(c, raw);
        continue;
      }
      const trimmed = raw.trim();
      options.onValue?.(trimmed, { rowId: rows, line: record.line, fieldIndex: c, column: columnIds[c]! });
      if (profile !== null) {
        profile.observe(trimmed, record.line);
        parsedNumbers[c] = profile.lastDecimal;
        if (userMissing.size === 0 || !userMissing.has(trimmed)) measure(c, raw);
        continue;
      }
      if (userMissing.has(trimmed) || state.userField?.missingValues?.includes(trimmed)) continue;
      measure(c, raw);
      const converted = state.convert!(trimmed);
      if (compositeKey) compositeKey.values[c] = converted;
      const problem = converted === null ? `"${clip(trimmed)}" is not a valid ${describeType(state.userField!)}` : state.constraints?.(converted, raw) ?? null;
      if (problem !== null) {
        violations.push({ line: record.line, column: headers[c]!, problem: converted === null ? problem : `(value "${clip(trimmed)}") ${problem}` });
      }
    }
    const repeated = compositeKey?.check(record.line);
    if (repeated) violations.push(repeated);
    if (violations.length >= MAX_REPORTED_VIOLATIONS) fail();
    early?.add(cells, parsedNumbers);
  };

  let tail: SourceRecord[] = [];
  const hold = (record: SourceRecord) => {
    tail.push(record);
    if (tail.length >= TAIL_RECORDS * 2) {
      for (let i = 0; i < TAIL_RECORDS; i++) processRow(tail[i]!);
      tail = tail.slice(TAIL_RECORDS);
    }
  };

  const laneColumns = (): LaneColumn[] | null =>
    describeLaneColumns({ schema: early?.binarySchema ?? null, width: Math.max(namedWidth, usedWidth), rowLength: lastLength, decimal, profiles: columns.map((column) => column.profile) });
  let laneLength = 0;
  let laneRows = 0;
  let laneCounts = { lengths: new Float64Array(0), values: new Float64Array(0) };
  laneHooks.ready = {
    holdBack: TAIL_RECORDS,
    plan: () => {
      if (laneColumns() === null) return null;
      // The lane reads on after the records held here, so they are processed first; the lane holds back its own.
      for (const record of tail) processRow(record);
      tail = [];
      const described = laneColumns();
      if (described === null) return null;
      laneLength = lastLength;
      laneCounts = { lengths: Float64Array.from(described, (_, c) => longest[c] ?? -1), values: new Float64Array(described.length) };
      const plan = { delimiter: delimiter!.charCodeAt(0), rowLength: lastLength, width: Math.max(namedWidth, usedWidth), holdBack: TAIL_RECORDS, columns: described };
      return { plan, firstId: early!.nextId, ...laneCounts };
    },
    apply: (run: LaneRun) => {
      if (run.rows === 0) return;
      rows += run.rows;
      rowLengths.get(laneLength)!.count += run.rows;
      for (let c = 0; c < laneCounts.lengths.length; c++) {
        if (laneCounts.lengths[c]! >= 0) longest[c] = laneCounts.lengths[c]!;
        columns[c]!.profile?.addSettledValues(laneCounts.values[c]!);
      }
      early!.addEncoded(run.output.subarray(0, run.outputLength), run.rows);
      laneStats.rows += run.rows;
      laneRows += run.rows;
    },
  };
  for (let i = headerEnd + 1; i < prefix.length; i++) hold(prefix[i]!);
  for await (const batch of batches) {
    for (const record of batch) hold(record);
    if (early) await early.flush();
  }

  const { kept, excluded } = splitTail(tail, namedWidth, decimal);
  for (const record of kept) processRow(record);
  if (violations.length > 0) fail();
  if (rows === 0) {
    throw new IngestError(
      'header_only',
      `${source.filename}${where} has a header on ${sheet ? 'row' : 'line'} ${headerRecord.line} but no data rows below it. Add the data and import again.`,
      { file: source.filename, line: headerRecord.line, sheet: sheet ?? undefined },
    );
  }
  report(size);

  const width = Math.max(namedWidth, usedWidth);
  // A workbook may hold values right of its header, which add unnamed columns.
  checkColumnCount(width, source, headerRecord.line, sheet);
  while (headers.length > width) headers.pop();
  columnIds = makeColumnNames(headers);
  const warnings: IngestWarning[] = [...encodingWarnings];
  const fields: TableSchemaField[] = [];
  for (let c = 0; c < width; c++) {
    const field = finishField(columns[c]!, headers[c]!, columnIds[c]!);
    fields.push(field.field);
    warnings.push(...field.warnings);
    const strays = columns[c]!.profile?.result().strays;
    if (strays && !(strays.wouldBe === 'number' && looksLikeIdentifier(headers[c]!))) warnings.push(strayValuesWarning(strays, headers[c]!.trim() || columnIds[c]!, headers[c]!, sheet, source.filename));
  }
  if (format === 'csv') {
    let shortRows = 0;
    let firstShortLine = Number.POSITIVE_INFINITY;
    for (const [length, seen] of rowLengths) {
      if (length >= width) continue;
      shortRows += seen.count;
      firstShortLine = Math.min(firstShortLine, seen.firstLine);
    }
    if (shortRows > 0) {
      warnings.push({
        code: 'short_rows',
        message: `${shortRows} ${shortRows === 1 ? 'row has' : 'rows have'} fewer cells than the header; the missing cells are loaded as empty (null) values. The first is on ${location(firstShortLine)}.`,
        line: firstShortLine,
      });
    }
  }
  warnings.push(...exclusionWarnings(excluded, location, sheet ? 'row' : 'line'));
  await early?.finish();

  return {
    format,
    encoding,
    delimiter,
    header_row: headerRecord.line,
    header_end_row: prefix[headerEnd]!.line,
    title: findTitle(prefix, headerIndex),
    sheet,
    schema: { fields, ...(options.schema?.missingValues ? { missingValues: options.schema.missingValues } : {}) },
    rows,
    warnings,
    byte_size: size,
    decimal_mark: decimal,
    excluded_lines: excluded.map((exclusion) => exclusion.line),
    text_lengths: fields.map((_, c) => ((longest[c] ?? -1) >= 0 ? longest[c]! : null)),
    ...(laneRows > 0 ? { lane_rows: laneRows } : {}),
  };
}

/** Rejects a cell holding a NUL character (byte 0), which PostgreSQL text cannot store. */
function nulCharacter(filename: string, where: string, column: string, line: number, sheet: string | null): IngestError {
  return new IngestError(
    'nul_character',
    `The value in column "${column}" on ${where} contains a NUL character (byte 0), which a database text value cannot hold. Such bytes usually come from a damaged export or a file saved in another encoding: remove them, save the file as UTF-8 and import it again; nothing was loaded.`,
    { file: filename, line, column, sheet: sheet ?? undefined },
  );
}

/** Counts code points, so a character outside the Basic Multilingual Plane (two UTF-16 units) counts once. */
function codePointLength(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0xdc00 && code <= 0xdfff) length--;
  }
  return length;
}

function describeType(field: TableSchemaField): string {
  switch (field.type) {
    case 'date':
      return `date${field.format && field.format !== 'default' && field.format !== 'any' ? ` in the form ${field.format}` : ' (YYYY-MM-DD)'}`;
    case 'datetime':
      return 'date and time';
    case 'integer':
      return 'whole number';
    default:
      return field.type;
  }
}
