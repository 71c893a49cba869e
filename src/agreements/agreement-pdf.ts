import PDFDocument from 'pdfkit';
import type { AgreementDocument } from './agreement-document.ts';

/** Renders the agreement document as a PDF with real (selectable, searchable) text in the standard Helvetica fonts. */
export function renderAgreementPdf(document: AgreementDocument, publisher: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const pdf = new PDFDocument({
      size: 'A4',
      margin: 56,
      lang: 'en-GB',
      displayTitle: true,
      info: { Title: `${document.reference}: ${document.title}`, Author: publisher, Subject: 'Information sharing agreement' },
    });
    const chunks: Buffer[] = [];
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);

    pdf.font('Helvetica-Bold').fontSize(18).text(document.title);
    pdf.moveDown(0.3);
    pdf.font('Helvetica').fontSize(11).text(`Information sharing agreement ${document.reference}, version ${document.version} (${document.status.replace('_', ' ')})`);
    for (const section of document.sections) {
      pdf.moveDown(1);
      pdf.font('Helvetica-Bold').fontSize(13).text(section.heading);
      pdf.moveDown(0.3);
      pdf.font('Helvetica').fontSize(11);
      for (const paragraph of section.paragraphs) pdf.text(paragraph).moveDown(0.3);
      if (section.items.length > 0) pdf.list(section.items, { bulletRadius: 2 });
    }
    pdf.moveDown(1);
    pdf.font('Helvetica').fontSize(9).text(`Published by ${publisher}.`);
    pdf.end();
  });
}
