import type { FieldError } from '../errors.ts';

/**
 * Lawful bases of UK GDPR Article 6(1), conditions of Article 9(2), and the Data Protection Act 2018 Schedule 1
 * conditions that some Article 9 conditions need (DPA 2018 section 10). Article 9(2)(b), (h), (i) and (j) need the
 * matching Schedule 1 Part 1 condition. Article 9(2)(g) needs a Part 2 condition (paragraphs 6 to 28).
 */
export const ARTICLE_6_BASES = {
  a: 'Consent',
  b: 'Contract',
  c: 'Legal obligation',
  d: 'Vital interests',
  e: 'Public task',
  f: 'Legitimate interests',
} as const;
export type Article6Basis = keyof typeof ARTICLE_6_BASES;

export const ARTICLE_9_CONDITIONS = {
  a: 'Explicit consent',
  b: 'Employment, social security and social protection law',
  c: 'Vital interests',
  d: 'Not-for-profit bodies',
  e: 'Made public by the data subject',
  f: 'Legal claims or judicial acts',
  g: 'Reasons of substantial public interest',
  h: 'Health or social care',
  i: 'Public health',
  j: 'Archiving, research and statistics',
} as const;
export type Article9Condition = keyof typeof ARTICLE_9_CONDITIONS;

/** Schedule 1 conditions by paragraph number; Part 1 is paragraphs 1 to 4, Part 2 is paragraphs 6 to 28. */
export const SCHEDULE_1_CONDITIONS: Record<number, string> = {
  1: 'Employment, social security and social protection',
  2: 'Health or social care purposes',
  3: 'Public health',
  4: 'Research etc',
  6: 'Statutory and government purposes',
  7: 'Administration of justice and parliamentary purposes',
  8: 'Equality of opportunity or treatment',
  9: 'Racial and ethnic diversity at senior levels of organisations',
  10: 'Preventing or detecting unlawful acts',
  11: 'Protecting the public',
  12: 'Regulatory requirements',
  13: 'Journalism etc in connection with unlawful acts and dishonesty etc',
  14: 'Preventing fraud',
  15: 'Suspicion of terrorist financing or money laundering',
  16: 'Support for individuals with a particular disability or medical condition',
  17: 'Counselling etc',
  18: 'Safeguarding of children and of individuals at risk',
  19: 'Safeguarding of economic well-being of certain individuals',
  20: 'Insurance',
  21: 'Occupational pensions',
  22: 'Political parties',
  23: 'Elected representatives responding to requests',
  24: 'Disclosure to elected representatives',
  25: 'Informing elected representatives about prisoners',
  26: 'Publication of legal judgments',
  27: 'Anti-doping in sport',
  28: 'Standards of behaviour in sport',
};

/** The Part 1 paragraph that each of these Article 9 conditions needs. */
const PART_1_PARAGRAPH_FOR: Partial<Record<Article9Condition, number>> = { b: 1, h: 2, i: 3, j: 4 };

export interface LawfulBasis {
  article6: Article6Basis;
  /** Present when the data include special category data. */
  article9: Article9Condition | null;
  /** Schedule 1 paragraph number, when the Article 9 condition needs one. */
  schedule1: number | null;
  /** Statutory powers or duties relied on, such as "Care Act 2014 s.6". */
  statutoryPowers: string[];
}

export function schedule1Part(paragraph: number): 1 | 2 | null {
  if (paragraph >= 1 && paragraph <= 4) return 1;
  if (paragraph >= 6 && paragraph <= 28) return 2;
  return null;
}

/** Checks the combination of bases; returns every problem at once, keyed to the form fields. */
export function checkLawfulBasis(basis: LawfulBasis, specialCategory: boolean): FieldError[] {
  const errors: FieldError[] = [];
  if ((basis.article6 === 'c' || basis.article6 === 'e') && basis.statutoryPowers.length === 0) {
    errors.push({
      field: 'lawful_basis.statutory_powers',
      message: `Article 6(1)(${basis.article6}) needs a basis in law: enter the statutory power or duty relied on, such as "Care Act 2014 s.6"`,
    });
  }
  if (!specialCategory) {
    if (basis.article9 !== null || basis.schedule1 !== null) {
      errors.push({ field: 'lawful_basis.article9', message: 'Article 9 and Schedule 1 conditions apply only to special category data. Remove them or mark the data as special category' });
    }
    return errors;
  }
  if (basis.article9 === null) {
    errors.push({ field: 'lawful_basis.article9', message: 'Select an Article 9(2) condition, because the data include special category data' });
    return errors;
  }
  const part1Paragraph = PART_1_PARAGRAPH_FOR[basis.article9];
  if (part1Paragraph !== undefined) {
    if (basis.schedule1 !== part1Paragraph) {
      errors.push({
        field: 'lawful_basis.schedule1',
        message: `Article 9(2)(${basis.article9}) needs DPA 2018 Schedule 1 Part 1 condition ${part1Paragraph} (${SCHEDULE_1_CONDITIONS[part1Paragraph]})`,
      });
    }
  } else if (basis.article9 === 'g') {
    if (basis.schedule1 === null || schedule1Part(basis.schedule1) !== 2) {
      errors.push({ field: 'lawful_basis.schedule1', message: 'Article 9(2)(g) needs a DPA 2018 Schedule 1 Part 2 condition (paragraphs 6 to 28)' });
    }
  } else if (basis.schedule1 !== null) {
    errors.push({ field: 'lawful_basis.schedule1', message: `Article 9(2)(${basis.article9}) does not use a Schedule 1 condition. Remove the Schedule 1 condition` });
  }
  return errors;
}
