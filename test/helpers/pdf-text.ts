import zlib from 'node:zlib';

/** A PDF object: its dictionary text and, for a stream, the inflated bytes as Latin-1 text. */
interface PdfObject {
  dictionary: string;
  stream: string | null;
}

function readObjects(pdf: Buffer): Map<number, PdfObject> {
  const raw = pdf.toString('latin1');
  const objects = new Map<number, PdfObject>();
  for (const match of raw.matchAll(/(\d+) 0 obj\s*([\s\S]*?)endobj/g)) {
    const body = match[2]!;
    const start = body.search(/stream\r?\n/);
    if (start === -1) {
      objects.set(Number(match[1]), { dictionary: body, stream: null });
      continue;
    }
    const data = body.slice(body.indexOf('\n', start) + 1, body.lastIndexOf('endstream')).replace(/\r?\n$/, '');
    const bytes = Buffer.from(data, 'latin1');
    let stream: string;
    try {
      stream = zlib.inflateSync(bytes).toString('latin1');
    } catch {
      stream = data;
    }
    objects.set(Number(match[1]), { dictionary: body.slice(0, start), stream });
  }
  return objects;
}

/** Reads a ToUnicode CMap's `bfchar` and `bfrange` entries into a map from character code to text. */
function readCMap(cmap: string): Map<number, string> {
  const codes = new Map<number, string>();
  const text = (hex: string) => Buffer.from(hex, 'hex').swap16().toString('utf16le');
  for (const block of cmap.matchAll(/beginbfchar([\s\S]*?)endbfchar/g)) {
    for (const entry of block[1]!.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>/g)) codes.set(parseInt(entry[1]!, 16), text(entry[2]!));
  }
  for (const block of cmap.matchAll(/beginbfrange([\s\S]*?)endbfrange/g)) {
    for (const entry of block[1]!.matchAll(/<([0-9a-fA-F]+)>\s*<([0-9a-fA-F]+)>\s*(\[[^\]]*\]|<[0-9a-fA-F]+>)/g)) {
      const first = parseInt(entry[1]!, 16);
      const last = parseInt(entry[2]!, 16);
      if (entry[3]!.startsWith('[')) {
        [...entry[3]!.matchAll(/<([0-9a-fA-F]+)>/g)].forEach((item, offset) => codes.set(first + offset, text(item[1]!)));
      } else {
        const base = parseInt(entry[3]!.slice(1, -1), 16);
        for (let code = first; code <= last; code++) codes.set(code, String.fromCharCode(base + code - first));
      }
    }
  }
  return codes;
}

/**
 * Extracts the text that a pdfkit document draws, page by page, through each font's ToUnicode map, as a reader that
 * copies text from the PDF would get it. Fonts without a map (the standard fonts) are read as Latin-1.
 */
export function pdfText(pdf: Buffer): string {
  const objects = readObjects(pdf);
  const fontMaps = new Map<string, Map<number, string> | null>();
  for (const object of objects.values()) {
    for (const fonts of object.dictionary.matchAll(/\/Font\s*<<([\s\S]*?)>>/g)) {
      for (const font of fonts[1]!.matchAll(/\/(\w+)\s+(\d+) 0 R/g)) {
        const toUnicode = /\/ToUnicode\s+(\d+) 0 R/.exec(objects.get(Number(font[2]))?.dictionary ?? '');
        const cmap = toUnicode ? objects.get(Number(toUnicode[1]))?.stream : null;
        fontMaps.set(font[1]!, cmap ? readCMap(cmap) : null);
      }
    }
  }
  let text = '';
  for (const object of objects.values()) {
    if (object.stream === null || !/\bTf\b/.test(object.stream)) continue;
    let codes: Map<number, string> | null = null;
    for (const token of object.stream.matchAll(/\/(\w+)\s+[\d.]+\s+Tf|<([0-9a-fA-F]*)>|\b(ET)\b/g)) {
      if (token[1] !== undefined) codes = fontMaps.get(token[1]) ?? null;
      else if (token[3] !== undefined) text += '\n';
      else if (codes === null) text += Buffer.from(token[2]!, 'hex').toString('latin1');
      else for (let at = 0; at + 4 <= token[2]!.length; at += 4) text += codes.get(parseInt(token[2]!.slice(at, at + 4), 16)) ?? '\ufffd';
    }
  }
  return text;
}
