import assert from 'node:assert/strict';
import { test } from 'node:test';
import PDFDocument from 'pdfkit';
import { pdfText } from '../test/helpers/pdf-text.ts';
import { PDF_FONT, registerPdfFonts } from './pdf-fonts.ts';

function render(draw: (document: PDFKit.PDFDocument) => void): Promise<Buffer> {
  const document = new PDFDocument({ size: 'A4' });
  const chunks: Buffer[] = [];
  const done = new Promise<Buffer>((resolve, reject) => {
    document.on('data', (chunk: Buffer) => chunks.push(chunk));
    document.on('end', () => resolve(Buffer.concat(chunks)));
    document.on('error', reject);
  });
  draw(document);
  document.end();
  return done;
}

test('names outside Windows-1252 keep their letters', async () => {
  const names = 'Llŷr Ŵyn, Łukasz Żółć, Zoë O’Brien ≤ 5 — café';
  const pdf = await render((document) => {
    registerPdfFonts(document);
    document.font(PDF_FONT.bold).text('Heading');
    document.font(PDF_FONT.regular).text(names);
  });
  const text = pdfText(pdf);
  assert.match(text, /Heading/);
  assert.ok(text.includes(names), text);
  // The fonts are embedded, as PDF/UA requires, and no standard font is used.
  const raw = pdf.toString('latin1');
  assert.match(raw, /\/FontFile2 \d+ 0 R/);
  assert.doesNotMatch(raw, /\/BaseFont \/Helvetica/);
});

test('the standard fonts lose those letters', async () => {
  // Shows why the fonts are embedded: Helvetica cannot encode ŷ or Ł, so the text does not survive.
  const pdf = await render((document) => document.font('Helvetica').text('Llŷr Łukasz'));
  assert.ok(!pdfText(pdf).includes('Llŷr Łukasz'));
});
