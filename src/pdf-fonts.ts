import fs from 'node:fs';
import { createRequire } from 'node:module';

/** The names under which `registerPdfFonts` registers the fonts, for `document.font(...)`. */
export const PDF_FONT = { regular: 'CivicSans', bold: 'CivicSans-Bold' } as const;

const require = createRequire(import.meta.url);
let files: { regular: Buffer; bold: Buffer } | null = null;

/**
 * Registers DejaVu Sans (the dejavu-fonts-ttf package, under the Bitstream Vera licence) on a pdfkit document. The
 * standard PDF fonts such as Helvetica encode Windows-1252 only, so names such as Llŷr or Łukasz printed wrongly, and
 * PDF/UA requires every font to be embedded. pdfkit embeds only the glyphs a document uses, with a ToUnicode map, so
 * the text stays selectable and searchable.
 */
export function registerPdfFonts(document: PDFKit.PDFDocument): void {
  files ??= {
    regular: fs.readFileSync(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf')),
    bold: fs.readFileSync(require.resolve('dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf')),
  };
  document.registerFont(PDF_FONT.regular, files.regular);
  document.registerFont(PDF_FONT.bold, files.bold);
}
