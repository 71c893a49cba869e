import yazl from 'yazl';

/**
 * Quotes one CSV value (RFC 4180). A value starting with =, +, - or @ gets a leading apostrophe, so a spreadsheet shows
 * it as text instead of running it as a formula.
 */
function csvValue(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Writes rows as CSV, lines ending CRLF. */
export function rowsToCsv(rows: readonly (readonly string[])[]): string {
  return `${rows.map((row) => row.map(csvValue).join(',')).join('\r\n')}\r\n`;
}

/** Escapes text for XML content and attribute values, dropping characters XML 1.0 cannot hold. */
function xmlText(value: string): string {
  return value
    .replace(/[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
}

const MANIFEST = `<?xml version="1.0" encoding="UTF-8"?>
<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3">
 <manifest:file-entry manifest:full-path="/" manifest:version="1.3" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>
 <manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>
</manifest:manifest>
`;

/**
 * Writes one sheet of text cells as an OpenDocument spreadsheet (ODF 1.3): the `mimetype` entry first and stored
 * uncompressed, as the standard requires so tools can recognise the file from its first bytes, then the manifest
 * and content.xml.
 */
export function rowsToOds(sheetName: string, rows: readonly (readonly string[])[]): Promise<Buffer> {
  const tableRows = rows
    .map((row) => `<table:table-row>${row.map((cell) => `<table:table-cell office:value-type="string"><text:p>${xmlText(cell)}</text:p></table:table-cell>`).join('')}</table:table-row>`)
    .join('\n');
  const content = `<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.3">
<office:body><office:spreadsheet><table:table table:name="${xmlText(sheetName)}">
${tableRows}
</table:table></office:spreadsheet></office:body></office:document-content>
`;
  const zip = new yazl.ZipFile();
  zip.addBuffer(Buffer.from('application/vnd.oasis.opendocument.spreadsheet', 'ascii'), 'mimetype', { compress: false });
  zip.addBuffer(Buffer.from(MANIFEST, 'utf8'), 'META-INF/manifest.xml');
  zip.addBuffer(Buffer.from(content, 'utf8'), 'content.xml');
  zip.end();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    zip.outputStream.on('data', (chunk: Buffer) => chunks.push(chunk));
    zip.outputStream.on('end', () => resolve(Buffer.concat(chunks)));
    zip.outputStream.on('error', reject);
  });
}
