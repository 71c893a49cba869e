import PDFDocument from 'pdfkit';
import { formatUkDate, formatUkDateTime } from '../http/views.ts';
import type { SubjectIdentifier } from '../audit/subject-index.ts';
import { IDENTIFIER_LABELS, type SubjectDisclosure } from './subject-access.service.ts';
import { PDF_FONT, registerPdfFonts } from '../pdf-fonts.ts';

const CSV_HEADER = ['Date and time (UK time)', 'Recipient', 'Agreement reference', 'Agreement title', 'Agreement version', 'Purpose', 'Dataset', 'Information shared'];

/**
 * Quotes one CSV value (RFC 4180). A value starting with =, +, - or @ gets a leading apostrophe, so a spreadsheet shows
 * it as text instead of running it as a formula.
 */
function csvValue(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/**
 * Writes the disclosures as CSV with a header row, one row per release, lines ending CRLF. Times are UK local time in
 * the GOV.UK form ("1 November 2026 at 9:30am"), because the file goes to the person who asked.
 */
export function subjectAccessCsv(disclosures: readonly SubjectDisclosure[]): string {
  const lines = [CSV_HEADER.map(csvValue).join(',')];
  for (const disclosure of disclosures) {
    lines.push(
      [
        formatUkDateTime(disclosure.occurredAt),
        disclosure.recipientName,
        disclosure.agreementReference ?? disclosure.agreementId,
        disclosure.agreementTitle ?? '',
        String(disclosure.agreementVersion),
        disclosure.purposeLabel,
        disclosure.datasetTitle ?? '',
        sharedFields(disclosure).join('; '),
      ]
        .map(csvValue)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Lists the fields a disclosure released, marking those the recipient received only as pseudonyms. */
export function sharedFields(disclosure: SubjectDisclosure): string[] {
  return disclosure.fields.map((field) => (disclosure.pseudonymisedFields.includes(field) ? `${field} (pseudonymised)` : field));
}

/** Shows only the last three characters of an identifier, enough for the resident to recognise it. */
export function maskIdentifier(subject: SubjectIdentifier): string {
  const value = subject.value;
  return `${IDENTIFIER_LABELS[subject.kind]} ending ${value.slice(-3)}`;
}

export interface LetterDetails {
  controllerName: string;
  subject: SubjectIdentifier;
  generatedAt: Date;
}

/**
 * Writes the subject access response letter as a PDF: who the controller is, which organisations received the
 * resident's data, under which agreement, for what purpose and when. It contains nothing about anyone else, and shows only
 * the end of the identifier searched.
 */
export function subjectAccessPdf(disclosures: readonly SubjectDisclosure[], details: LetterDetails): Promise<Buffer> {
  const document = new PDFDocument({ size: 'A4', margin: 56, info: { Title: 'Subject access response: disclosures of your personal data', Author: details.controllerName } });
  registerPdfFonts(document);
  const chunks: Buffer[] = [];
  const finished = new Promise<Buffer>((resolve, reject) => {
    document.on('data', (chunk: Buffer) => chunks.push(chunk));
    document.on('end', () => resolve(Buffer.concat(chunks)));
    document.on('error', reject);
  });

  document.font(PDF_FONT.bold).fontSize(16).text(details.controllerName);
  document.font(PDF_FONT.regular).fontSize(10).text(formatUkDate(details.generatedAt)).moveDown(1.5);
  document.font(PDF_FONT.bold).fontSize(14).text('Subject access response: who we shared your information with').moveDown(0.5);
  document.font(PDF_FONT.regular).fontSize(11);
  document.text(`Reference: ${maskIdentifier(details.subject)}`).moveDown();
  document.text('Dear resident,').moveDown(0.5);
  document.text(
    'You asked us which organisations have received personal information about you, when and why. This is our answer ' +
      'under Article 15(1)(c) of the UK General Data Protection Regulation. It lists every release of your information ' +
      'that our disclosure log records.',
  ).moveDown();

  if (disclosures.length === 0) {
    document.text('Our records show no release of your personal information to another organisation.').moveDown();
  } else {
    const recipients = [...new Set(disclosures.map((disclosure) => disclosure.recipientName))];
    document.text(`We shared your information ${disclosures.length === 1 ? 'once' : `${disclosures.length} times`}, with ${recipients.length === 1 ? recipients[0] : `${recipients.length} organisations: ${recipients.join(', ')}`}.`).moveDown();
    disclosures.forEach((disclosure, index) => {
      document.font(PDF_FONT.bold).text(`${index + 1}. ${formatUkDateTime(disclosure.occurredAt)}: ${disclosure.recipientName}`);
      document.font(PDF_FONT.regular);
      const agreement = disclosure.agreementReference ? `${disclosure.agreementReference}${disclosure.agreementTitle ? ` (${disclosure.agreementTitle})` : ''}` : 'an information sharing agreement';
      document.text(`Agreement: ${agreement}, version ${disclosure.agreementVersion}`, { indent: 14 });
      document.text(`Purpose: ${disclosure.purposeLabel}`, { indent: 14 });
      if (disclosure.datasetTitle) document.text(`From: ${disclosure.datasetTitle}`, { indent: 14 });
      document.text(`Information shared: ${sharedFields(disclosure).join(', ')}`, { indent: 14 }).moveDown(0.6);
    });
  }

  document.moveDown().text(
    'If you think any of this information is wrong, you can ask us to correct it, and we will tell every organisation ' +
      'listed here. If you are unhappy with how we have handled your information, contact our data protection officer, ' +
      'or complain to the Information Commissioner’s Office at ico.org.uk.',
  ).moveDown();
  document.text('Yours faithfully,').moveDown(0.5).text(`Data protection officer, ${details.controllerName}`);
  document.end();
  return finished;
}
