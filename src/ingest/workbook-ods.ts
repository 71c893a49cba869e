/**
 * OpenDocument spreadsheets (.ods): a zip holding content.xml, streamed through sax so a large sheet is never held in
 * memory. Repeated rows and cells (`number-rows-repeated`, `number-columns-repeated`) are expanded only where they
 * hold values, because LibreOffice writes a million repeated empty rows to fill a sheet.
 */
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import sax from 'sax';
import yauzl from 'yauzl';
import type { SourceRecord } from './csv-tokenizer.ts';
import { IngestError, type IngestSource } from './ingest.types.ts';
import type { SheetInfo } from './workbook.ts';

function invalidOds(source: IngestSource): IngestError {
  return new IngestError(
    'invalid_workbook',
    `${source.filename} could not be read as an OpenDocument spreadsheet (.ods). Open it in a spreadsheet program, save it as .ods or CSV, and upload it again.`,
    { file: source.filename },
  );
}

async function openContentXml(source: IngestSource): Promise<{ stream: Readable; close: () => void }> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.open(source.path, { lazyEntries: true, autoClose: false }, (error, file) => (error || !file ? reject(invalidOds(source)) : resolve(file))),
  );
  return new Promise((resolve, reject) => {
    zip.on('entry', (entry: yauzl.Entry) => {
      if (entry.fileName !== 'content.xml') {
        zip.readEntry();
        return;
      }
      zip.openReadStream(entry, (error, stream) => {
        if (error || !stream) reject(invalidOds(source));
        else resolve({ stream, close: () => zip.close() });
      });
    });
    zip.on('end', () => reject(invalidOds(source)));
    zip.on('error', () => reject(invalidOds(source)));
    zip.readEntry();
  });
}

interface SheetEvents {
  onSheet?: (name: string, hidden: boolean) => void;
  onRow: (sheet: string, cells: string[], line: number, repeat: number) => void;
}

/** Parses content.xml and reports each non-empty row. */
function createOdsParser(events: SheetEvents): sax.SAXParser {
  const parser = sax.parser(true, { trim: false, normalize: false });
  const hiddenStyles = new Set<string>();
  let styleName: string | null = null;
  let sheet = '';
  let line = 0;
  let rowRepeat = 1;
  let cells: string[] = [];
  let pendingEmpty = 0;
  let cellRepeat = 1;
  let cellValue: string | null = null;
  let text = '';
  let inCell = false;
  let paragraphs = 0;

  parser.onopentag = (tag) => {
    const attributes = tag.attributes as Record<string, string>;
    switch (tag.name) {
      case 'style:style':
        styleName = attributes['style:family'] === 'table' ? attributes['style:name'] ?? null : null;
        break;
      case 'style:table-properties':
        if (styleName && attributes['table:display'] === 'false') hiddenStyles.add(styleName);
        break;
      case 'table:table':
        sheet = attributes['table:name'] ?? '';
        line = 0;
        events.onSheet?.(sheet, hiddenStyles.has(attributes['table:style-name'] ?? ''));
        break;
      case 'table:table-row':
        rowRepeat = Number(attributes['table:number-rows-repeated'] ?? 1);
        cells = [];
        pendingEmpty = 0;
        break;
      case 'table:table-cell':
      case 'table:covered-table-cell': {
        cellRepeat = Number(attributes['table:number-columns-repeated'] ?? 1);
        // LibreOffice can save a formula error with a numeric type and a value of 0 beside its text (#DIV/0!), so the
        // text is read instead.
        const type = attributes['calcext:value-type'] === 'error' ? 'error' : attributes['office:value-type'];
        cellValue =
          type === 'date' ? attributes['office:date-value'] ?? null
          : type === 'boolean' ? attributes['office:boolean-value'] ?? null
          : type === 'float' || type === 'currency' || type === 'percentage' ? attributes['office:value'] ?? null
          : null;
        text = '';
        paragraphs = 0;
        inCell = tag.name === 'table:table-cell';
        break;
      }
      case 'text:p':
        if (inCell && paragraphs++ > 0) text += '\n';
        break;
      case 'text:s':
        if (inCell) text += ' '.repeat(Number(attributes['text:c'] ?? 1));
        break;
      case 'text:tab':
        if (inCell) text += '\t';
        break;
      case 'text:line-break':
        if (inCell) text += '\n';
        break;
    }
  };
  parser.ontext = (value) => {
    if (inCell) text += value;
  };
  parser.onclosetag = (name) => {
    if (name === 'table:table-cell' || name === 'table:covered-table-cell') {
      const value = name === 'table:covered-table-cell' ? '' : cellValue ?? text;
      if (value === '') {
        pendingEmpty += cellRepeat;
      } else {
        for (let i = 0; i < pendingEmpty; i++) cells.push('');
        pendingEmpty = 0;
        for (let i = 0; i < cellRepeat; i++) cells.push(value);
      }
      inCell = false;
    } else if (name === 'table:table-row') {
      if (cells.length > 0) events.onRow(sheet, cells, line + 1, rowRepeat);
      line += rowRepeat;
    }
  };
  return parser;
}

export async function listOdsSheets(source: IngestSource): Promise<SheetInfo[]> {
  const sheets: SheetInfo[] = [];
  const { stream, close } = await openContentXml(source);
  const parser = createOdsParser({
    onSheet: (name, hidden) => sheets.push({ name, hidden, rows: 0 }),
    onRow: (_sheet, _cells, _line, repeat) => {
      sheets[sheets.length - 1]!.rows += repeat;
    },
  });
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of stream) parser.write(decoder.write(chunk as Buffer));
    parser.close();
  } catch (error) {
    throw error instanceof IngestError ? error : invalidOds(source);
  } finally {
    close();
  }
  return sheets;
}

/** Rows repeated more often than this are cut short; no real sheet repeats a row with values so often. */
const MAX_ROW_REPEAT = 10_000;

export async function* readOdsSheet(source: IngestSource, sheetName: string): AsyncGenerator<SourceRecord[]> {
  const { stream, close } = await openContentXml(source);
  let batch: SourceRecord[] = [];
  const parser = createOdsParser({
    onRow: (sheet, cells, line, repeat) => {
      if (sheet !== sheetName) return;
      for (let i = 0; i < Math.min(repeat, MAX_ROW_REPEAT); i++) batch.push({ cells: [...cells], line: line + i });
    },
  });
  const decoder = new StringDecoder('utf8');
  try {
    for await (const chunk of stream) {
      parser.write(decoder.write(chunk as Buffer));
      if (batch.length > 0) {
        yield batch;
        batch = [];
      }
    }
    parser.close();
    if (batch.length > 0) yield batch;
  } catch (error) {
    throw error instanceof IngestError ? error : invalidOds(source);
  } finally {
    close();
  }
}
