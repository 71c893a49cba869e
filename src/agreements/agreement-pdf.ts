import PDFDocument from 'pdfkit';
import type { AgreementDocument } from './agreement-document.ts';
import { PDF_FONT, registerPdfFonts } from '../pdf-fonts.ts';

/**
 * Renders the agreement document as a tagged PDF with real (selectable, searchable) text in embedded Unicode fonts
 * (see pdf-fonts.ts). The structure tree marks the title, and each section with its heading, paragraphs and lists,
 * so that screen readers can move by heading and read lists as lists. pdfkit puts each bullet in its item's label
 * (Lbl).
 * NOTE: not checked against PDF/UA, which asks for more than this structure (such as artifacts for page furniture).
 */
export function renderAgreementPdf(document: AgreementDocument, publisher: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const pdf = new PDFDocument({
      size: 'A4',
      margin: 56,
      pdfVersion: '1.5',
      tagged: true,
      lang: 'en-GB',
      displayTitle: true,
      info: { Title: `${document.reference}: ${document.title}`, Author: publisher, Subject: 'Information sharing agreement' },
    });
    registerPdfFonts(pdf);
    const chunks: Buffer[] = [];
    pdf.on('data', (chunk: Buffer) => chunks.push(chunk));
    pdf.on('end', () => resolve(Buffer.concat(chunks)));
    pdf.on('error', reject);

    const root = pdf.struct('Document');
    pdf.addStructure(root);
    pdf.font(PDF_FONT.bold).fontSize(18).text(document.title, { structParent: root, structType: 'H1' });
    pdf.moveDown(0.3);
    const status = document.status.replace('_', ' ');
    pdf.font(PDF_FONT.regular).fontSize(11).text(`Information sharing agreement ${document.reference}, version ${document.version} (${status})`, { structParent: root, structType: 'P' });

    for (const section of document.sections) {
      const part = pdf.struct('Sect');
      root.add(part);
      pdf.moveDown(1);
      pdf.font(PDF_FONT.bold).fontSize(13).text(section.heading, { structParent: part, structType: 'H2' });
      pdf.moveDown(0.3);
      pdf.font(PDF_FONT.regular).fontSize(11);
      for (const paragraph of section.paragraphs) pdf.text(paragraph, { structParent: part, structType: 'P' }).moveDown(0.3);
      if (section.items.length > 0) {
        const list = pdf.struct('L');
        part.add(list);
        pdf.list(section.items, { bulletRadius: 2, structParent: list });
        list.end();
      }
      part.end();
    }

    pdf.moveDown(1);
    pdf.font(PDF_FONT.regular).fontSize(9).text(`Published by ${publisher}.`, { structParent: root, structType: 'P' });
    root.end();
    pdf.end();
  });
}
