import {
  containsEmailAddress,
  containsFullPostcode,
  containsNationalInsuranceNumber,
  containsPaymentCardNumber,
  containsSortCodeAndAccount,
  containsUkPhoneNumber,
  countPlainTenDigitRuns,
  findSeparatedNhsNumbers,
  isAccountNumber,
  isSortCode,
  yearOfDate,
} from './identifiers.ts';
import {
  hasLegalForm,
  headerWords,
  isBankHeader,
  isCreditorTypeHeader,
  isDateOfBirthHeader,
  isBareNameHeader,
  isIndividualCreditorType,
  isPayeeHeader,
  isRedactionMarker,
  isPersonNameHeader,
  hasOrganisationMarker,
  looksLikePersonalName,
  looksLikeTitledIndividual,
} from './names.ts';

export const PERSONAL_DATA_KINDS = [
  'nhs_number',
  'national_insurance_number',
  'email_address',
  'phone_number',
  'postcode',
  'date_of_birth',
  'bank_account',
  'payment_card',
  'individual_name',
] as const;

export type PersonalDataKind = (typeof PERSONAL_DATA_KINDS)[number];

/** Findings of one kind in one column: a count and example 1-based data row numbers (the first 10), never values. */
export interface PersonalDataFinding {
  column: string;
  kind: PersonalDataKind;
  count: number;
  rows: number[];
}

/** A kind the data is expected to hold, such as asset postcodes in a land register; without a column, in any column. */
export interface ExpectedPersonalData {
  column?: string;
  kind: PersonalDataKind;
}

export interface CellHit {
  column: number;
  kind: PersonalDataKind;
  /**
   * Evidence that counts only for a whole column: a bare ten-digit number passing the NHS check, where the column looks
   * like NHS numbers overall, or a value shaped like a person's name in a bare "Name" column (see NAME_COLUMN_SHARE).
   */
  weak?: boolean;
}

export const EXAMPLE_ROWS = 10;

// Random ten-digit identifiers pass the NHS check digit about one time in eleven. A column where half or more pass
// is taken to contain NHS numbers.
const NHS_COLUMN_PASS_RATE = 0.5;

// A bare "Name" column is taken to contain people's names when at least this share of its values, and at least
// NAME_COLUMN_MIN_VALUES of them, look like one. In the East Sussex supplier list in the test fixtures 3.5% do, for the
// sole traders among its businesses, and in a list of people most do. The given names behind the check are not
// exhaustive, so the share is set well under a half.
const NAME_COLUMN_SHARE = 0.3;
const NAME_COLUMN_MIN_VALUES = 3;

/** The role of each column, read once from the headers. */
export class ColumnRoles {
  readonly payee: boolean[];
  /** Columns whose header says they hold people's names, where any name that is not an organisation's counts. */
  readonly personName: boolean[];
  /** Columns headed just "Name", which may contain people's, places' or organisations' names. */
  readonly bareName: boolean[];
  readonly creditorType: number[];
  readonly dateOfBirth: boolean[];
  readonly bank: boolean[];
  readonly nhs: boolean[];
  readonly reference: boolean[];
  readonly personAddress: boolean[];

  constructor(readonly headers: readonly string[]) {
    this.payee = headers.map(isPayeeHeader);
    this.personName = headers.map(isPersonNameHeader);
    this.bareName = headers.map(isBareNameHeader);
    this.creditorType = headers.flatMap((header, index) => (isCreditorTypeHeader(header) ? [index] : []));
    this.dateOfBirth = headers.map(isDateOfBirthHeader);
    this.bank = headers.map(isBankHeader);
    this.nhs = headers.map((header) => headerWords(header).includes('nhs'));
    this.personAddress = headers.map((header) => headerWords(header).some((word) => PERSON_WORDS.has(word)));
    this.reference = headers.map(
      (header) => !isBankHeader(header) && !/post\s*code/i.test(header) && headerWords(header).some((word) => REFERENCE_WORDS.has(word)),
    );
  }
}

const HAS_LETTER = /[A-Za-z]/;

// Headers of reference columns, whose codes can look like phone numbers or postcodes ("CMC07919000059A",
// "103176/EX79RZ") without being either.
const REFERENCE_WORDS = new Set(['invoice', 'transaction', 'reference', 'ref', 'document', 'order', 'voucher', 'id', 'code', 'amount', 'value', 'total']);

const PERSON_KINDS = new Set<PersonalDataKind>(['individual_name', 'date_of_birth', 'nhs_number', 'national_insurance_number']);

// Header words that make an address column a person's address.
const PERSON_WORDS = new Set([
  'home', 'resident', 'residents', 'patient', 'client', 'claimant', 'applicant', 'tenant', 'person', 'individual',
  'customer', 'pupil', 'student', 'child', 'carer', 'payee', 'supplier', 'beneficiary', 'creditor', 'contact',
  'personal', 'member', 'employee', 'staff', 'correspondence',
]);

function countDigits(value: string): number {
  let digits = 0;
  for (let index = 0; index < value.length; index += 1) {
    const code = value.charCodeAt(index);
    if (code >= 48 && code <= 57) digits += 1;
  }
  return digits;
}

/** Reports, for each cell holding bare ten-digit runs, how many there were and how many passed the NHS check. */
export type TenDigitRunListener = (column: number, runs: number, valid: number) => void;

/**
 * Finds every personal-data hit in one row. Row-level rules (creditor type, sort code with account) look across cells.
 * The digit counts gate the costlier patterns, so a typical amount or date cell is checked in a few steps.
 */
export function inspectRow(roles: ColumnRoles, values: ReadonlyArray<string | null | undefined>, onTenDigitRuns?: TenDigitRunListener): CellHit[] {
  const hits: CellHit[] = [];
  const individualRow = roles.creditorType.some((index) => {
    const value = values[index];
    return typeof value === 'string' && isIndividualCreditorType(value);
  });
  let sortCodeColumn = -1;
  let accountColumn = -1;
  const postcodeColumns: number[] = [];

  for (let column = 0; column < roles.headers.length; column += 1) {
    const raw = values[column];
    if (raw === null || raw === undefined) continue;
    const value = raw.trim();
    if (value.length === 0 || isRedactionMarker(value)) continue;
    const digits = countDigits(value);
    const letter = digits < value.length && HAS_LETTER.test(value);
    const reference = roles.reference[column];

    if (value.includes('@') && containsEmailAddress(value)) hits.push({ column, kind: 'email_address' });
    if (digits >= 10) {
      if (findSeparatedNhsNumbers(value) > 0) hits.push({ column, kind: 'nhs_number' });
      const runs = countPlainTenDigitRuns(value);
      if (runs.runs > 0) onTenDigitRuns?.(column, runs.runs, runs.valid);
      if (runs.valid > 0) hits.push({ column, kind: 'nhs_number', weak: true });
      if (!reference && containsUkPhoneNumber(value)) hits.push({ column, kind: 'phone_number' });
      if (digits >= 13 && containsPaymentCardNumber(value)) hits.push({ column, kind: 'payment_card' });
      if (digits >= 14 && containsSortCodeAndAccount(value)) hits.push({ column, kind: 'bank_account' });
    }
    if (digits === 6 && isSortCode(value)) sortCodeColumn = column;
    if (digits === 8 && isAccountNumber(value)) accountColumn = column;
    if (digits >= 4 && roles.dateOfBirth[column] && yearOfDate(value) !== null) hits.push({ column, kind: 'date_of_birth' });
    if (letter && digits >= 6 && containsNationalInsuranceNumber(value)) hits.push({ column, kind: 'national_insurance_number' });
    if (letter && digits >= 2 && !reference && containsFullPostcode(value)) postcodeColumns.push(column);
    if (letter && roles.personName[column]) {
      if (!hasOrganisationMarker(value)) hits.push({ column, kind: 'individual_name' });
    } else if (letter && roles.payee[column]) {
      const titled = looksLikeTitledIndividual(value);
      if (titled || (individualRow && !hasLegalForm(value))) hits.push({ column, kind: 'individual_name' });
      else if (roles.bareName[column] && looksLikePersonalName(value)) hits.push({ column, kind: 'individual_name', weak: true });
    }
  }

  // A postcode on its own locates a place such as a library, a council building or a public toilet. It is personal
  // data where it is a person's address, so it counts under a header about people or in a row that identifies someone.
  const aboutPerson = hits.some((hit) => PERSON_KINDS.has(hit.kind));
  for (const column of postcodeColumns) {
    if (aboutPerson || roles.personAddress[column]) hits.push({ column, kind: 'postcode' });
  }

  // A sort code in one cell and an account number in another count only when a header says they are bank details,
  // so that a dd-mm-yy date beside an invoice number is not taken for them.
  if (sortCodeColumn >= 0 && accountColumn >= 0 && (roles.bank[sortCodeColumn] || roles.bank[accountColumn])) {
    hits.push({ column: sortCodeColumn, kind: 'bank_account' }, { column: accountColumn, kind: 'bank_account' });
  }
  return hits;
}

interface Tally {
  count: number;
  rows: number[];
}

/**
 * Scans rows for personal data and tallies findings per column and kind. Feed it whole rows with `scanRow`, or single
 * values in row order with `visit`, then call `findings`.
 */
export class PersonalDataScanner {
  readonly roles: ColumnRoles;
  private readonly tallies = new Map<string, Tally>();
  private readonly weakNhs = new Map<number, Tally>();
  private readonly weakNames = new Map<number, Tally>();
  /** Non-empty values seen in each bare "Name" column, the denominator of NAME_COLUMN_SHARE. */
  private readonly nameColumnValues = new Map<number, number>();
  private readonly bareNameColumns: number[];
  private readonly tenDigitRuns = new Map<number, { runs: number; valid: number }>();
  private readonly expected: Set<string>;
  private readonly countTenDigitRuns: TenDigitRunListener = (column, runs, valid) => {
    const total = this.tenDigitRuns.get(column) ?? { runs: 0, valid: 0 };
    total.runs += runs;
    total.valid += valid;
    this.tenDigitRuns.set(column, total);
  };
  private bufferedRow = -1;
  private buffer: Array<string | null> = [];

  constructor(headers: readonly string[], options: { expected?: ExpectedPersonalData[] } = {}) {
    this.roles = new ColumnRoles(headers);
    this.bareNameColumns = this.roles.bareName.flatMap((bare, column) => (bare ? [column] : []));
    this.expected = new Set((options.expected ?? []).map((entry) => `${entry.column ?? '*'}\u0000${entry.kind}`));
  }

  /** Scans one row; `row` is its 1-based data row number, used only in the findings' examples. */
  scanRow(row: number, values: ReadonlyArray<string | null | undefined>): void {
    for (const hit of inspectRow(this.roles, values, this.countTenDigitRuns)) {
      if (hit.weak && hit.kind === 'individual_name') add(this.weakNames, hit.column, row);
      else if (hit.weak) add(this.weakNhs, hit.column, row);
      else add(this.tallies, `${hit.column}\u0000${hit.kind}`, row);
    }
    for (const column of this.bareNameColumns) {
      const value = values[column];
      if (typeof value !== 'string' || value.trim() === '' || isRedactionMarker(value)) continue;
      this.nameColumnValues.set(column, (this.nameColumnValues.get(column) ?? 0) + 1);
    }
  }

  /** Per-value entry point: values must arrive in row order; a row is scanned when the next row starts or at `findings`. */
  visit(row: number, column: number, value: string | null): void {
    if (row !== this.bufferedRow) {
      this.flush();
      this.bufferedRow = row;
    }
    this.buffer[column] = value;
  }

  private flush(): void {
    if (this.bufferedRow >= 0) this.scanRow(this.bufferedRow, this.buffer);
    this.bufferedRow = -1;
    this.buffer = [];
  }

  findings(): PersonalDataFinding[] {
    this.flush();
    const result: PersonalDataFinding[] = [];
    for (const [key, tally] of this.tallies) {
      const [column, kind] = key.split('\u0000') as [string, PersonalDataKind];
      result.push(this.finding(Number(column), kind, tally));
    }
    for (const [column, tally] of this.weakNhs) {
      const runs = this.tenDigitRuns.get(column) ?? { runs: 0, valid: 0 };
      const looksLikeNhs = this.roles.nhs[column] || runs.valid >= NHS_COLUMN_PASS_RATE * runs.runs;
      if (!looksLikeNhs) continue;
      const strong = result.find((entry) => entry.column === this.roles.headers[column] && entry.kind === 'nhs_number');
      if (strong) mergeInto(strong, tally);
      else result.push(this.finding(column, 'nhs_number', tally));
    }
    for (const [column, tally] of this.weakNames) {
      const values = this.nameColumnValues.get(column) ?? 0;
      if (tally.count < NAME_COLUMN_MIN_VALUES || tally.count < NAME_COLUMN_SHARE * values) continue;
      const strong = result.find((entry) => entry.column === this.roles.headers[column] && entry.kind === 'individual_name');
      if (strong) mergeInto(strong, tally);
      else result.push(this.finding(column, 'individual_name', tally));
    }
    const order = (finding: PersonalDataFinding) => this.roles.headers.indexOf(finding.column) * 100 + PERSONAL_DATA_KINDS.indexOf(finding.kind);
    const isExpected = (finding: PersonalDataFinding) =>
      this.expected.has(`${finding.column}\u0000${finding.kind}`) || this.expected.has(`*\u0000${finding.kind}`);
    return result.filter((finding) => !isExpected(finding)).sort((a, b) => order(a) - order(b));
  }

  private finding(column: number, kind: PersonalDataKind, tally: Tally): PersonalDataFinding {
    return { column: this.roles.headers[column] ?? `column ${column + 1}`, kind, count: tally.count, rows: [...tally.rows] };
  }
}

function add<K>(map: Map<K, Tally>, key: K, row: number): void {
  const tally = map.get(key) ?? { count: 0, rows: [] };
  tally.count += 1;
  if (tally.rows.length < EXAMPLE_ROWS && tally.rows[tally.rows.length - 1] !== row) tally.rows.push(row);
  map.set(key, tally);
}

function mergeInto(finding: PersonalDataFinding, tally: Tally): void {
  finding.count += tally.count;
  finding.rows = [...new Set([...finding.rows, ...tally.rows])].sort((a, b) => a - b).slice(0, EXAMPLE_ROWS);
}

/** Scans a whole table held in memory; rows are numbered from 1. */
export function scanRows(headers: readonly string[], rows: Iterable<ReadonlyArray<string | null>>, expected?: ExpectedPersonalData[]): PersonalDataFinding[] {
  const scanner = new PersonalDataScanner(headers, { expected });
  let row = 0;
  for (const values of rows) scanner.scanRow((row += 1), values);
  return scanner.findings();
}
