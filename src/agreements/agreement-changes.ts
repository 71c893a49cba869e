import type { AgreementDocument } from './agreement-document.ts';

/** The sentences one section of the agreement gained and lost between two versions, as the document words them. */
export interface SectionChange {
  heading: string;
  added: string[];
  removed: string[];
}

/**
 * Compares two versions' documents section by section, so that an approver of an amendment can find what it changes
 * without reading both versions. A sentence or list item counts as changed when its text differs, so an edited sentence shows
 * as its old text removed and its new text added.
 */
export function documentChanges(previous: AgreementDocument, next: AgreementDocument): SectionChange[] {
  const linesOf = (document: AgreementDocument, heading: string): string[] => {
    const section = document.sections.find((candidate) => candidate.heading === heading);
    return section ? [...section.paragraphs, ...section.items] : [];
  };
  const headings = [...new Set([...next.sections.map((section) => section.heading), ...previous.sections.map((section) => section.heading)])];
  const changes: SectionChange[] = [];
  for (const heading of headings) {
    const before = linesOf(previous, heading);
    const after = linesOf(next, heading);
    const added = after.filter((line) => !before.includes(line));
    const removed = before.filter((line) => !after.includes(line));
    if (added.length > 0 || removed.length > 0) changes.push({ heading, added, removed });
  }
  return changes;
}
