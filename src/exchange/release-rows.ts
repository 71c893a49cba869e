import { sql, type Kysely } from 'kysely';
import { compileRowFilter } from '../agreements/row-filter.ts';
import type { Normalisation } from '../agreements/agreement.terms.ts';
import type { SubjectIdentifier, SubjectKind } from '../audit/subject-index.ts';
import type { DB } from '../db/schema.ts';
import type { Pseudonymiser } from './pseudonym.ts';
import type { ReleasePlan, ReleaseResource } from './release-policy.ts';

/** One page of released rows: the values shaped for the recipient and the subjects for the disclosure log. */
export interface ReleasedPage {
  records: Array<Record<string, unknown>>;
  subjects: SubjectIdentifier[];
  /** `_id` of the last row read; the next page starts after it. */
  lastId: number | null;
}

/**
 * The part of a page that the disclosure log records: the row count, the last `_id`, and the people in the rows on
 * request.
 */
export interface ReleasedRows {
  rowCount: number;
  lastId: number | null;
  subjects(): SubjectIdentifier[];
}

/** Describes a shaped page for the disclosure log. */
export function releasedRows(page: ReleasedPage): ReleasedRows {
  return { rowCount: page.records.length, lastId: page.lastId, subjects: () => page.subjects };
}

/**
 * Reads rows of a dataset version in `_id` order after `afterId`, with the agreement's row filter in the SQL, and
 * shapes them: only the released fields, with pseudonymised fields replaced. The subject field is read for the
 * disclosure log even when it is not released. Runs in the provider's scope.
 */
export class RowReader {
  readonly #pseudonymiser: Pseudonymiser;
  /** Each released field with its pseudonym normalisation, or null when it is released as it is. */
  readonly #fields: Array<{ name: string; normalisation: Normalisation | null }>;

  constructor(
    pseudonymiser: Pseudonymiser,
    private readonly plan: ReleasePlan,
    private readonly resource: ReleaseResource,
  ) {
    this.#pseudonymiser = pseudonymiser;
    const pseudonymised = new Map(plan.dataset.pseudonymise.map((entry) => [entry.field, entry.normalise]));
    this.#fields = plan.fields.map((field) => ({ name: field.name, normalisation: pseudonymised.get(field.name) ?? null }));
  }

  async readPage(trx: Kysely<DB>, afterId: number, limit: number): Promise<ReleasedPage> {
    return this.shape(await this.read(trx, afterId, limit));
  }

  /** Reads the rows of a page as stored, with `_id` and the subject field, for `shape` to release. */
  async read(trx: Kysely<DB>, afterId: number, limit: number): Promise<Array<Record<string, unknown>>> {
    const { dataset } = this.plan;
    const names = new Set(this.plan.fields.map((field) => field.name));
    if (dataset.subject) names.add(dataset.subject.field);
    const columns = [sql.id('_id'), ...[...names].map((name) => sql.id(name))];
    const conditions = [sql<boolean>`${sql.id('_id')} > ${afterId}`];
    if (dataset.rowFilter) conditions.push(compileRowFilter(dataset.rowFilter, this.resource.schema));
    const table = sql.id('datastore', this.resource.tableName);
    const { rows } = await sql<Record<string, unknown>>`
      select ${sql.join(columns)} from ${table}
      where ${sql.join(conditions, sql` and `)}
      order by ${sql.id('_id')} limit ${limit}`.execute(trx);
    return rows;
  }

  /** Describes rows read by `read` for the disclosure log, before they are shaped. */
  released(rows: Array<Record<string, unknown>>): ReleasedRows {
    const subject = this.plan.dataset.subject;
    return {
      rowCount: rows.length,
      lastId: rows.length === 0 ? null : Number(rows[rows.length - 1]!._id),
      subjects: () => (subject ? rows.map((row) => subjectOf(row[subject.field], subject.kind)).filter((identifier) => identifier !== null) : []),
    };
  }

  shape(rows: Array<Record<string, unknown>>): ReleasedPage {
    const subject = this.plan.dataset.subject;
    const records: Array<Record<string, unknown>> = new Array(rows.length);
    const subjects: ReleasedPage['subjects'] = [];
    let lastId: number | null = null;
    for (let index = 0; index < rows.length; index++) {
      const row = rows[index]!;
      const record: Record<string, unknown> = {};
      // Pseudonymised fields take their place in the record now, so the key order stays the agreement's, and their
      // values below, a whole page at a time.
      for (const field of this.#fields) record[field.name] = field.normalisation === null ? (row[field.name] ?? null) : null;
      records[index] = record;
      if (subject) {
        const identifier = subjectOf(row[subject.field], subject.kind);
        if (identifier !== null) subjects.push(identifier);
      }
      lastId = Number(row._id);
    }
    for (const field of this.#fields) {
      if (field.normalisation === null) continue;
      const pseudonyms = this.#pseudonymiser.pseudonymiseMany(rows.map((row) => row[field.name]), field.normalisation);
      for (let index = 0; index < records.length; index++) records[index]![field.name] = pseudonyms[index];
    }
    return { records, subjects, lastId };
  }
}

/** Returns the subject identifier in a row's subject field, or null when the field is empty. */
export function subjectOf(value: unknown, kind: SubjectKind): SubjectIdentifier | null {
  if (value === null || value === undefined) return null;
  const text = String(value);
  return text.trim() === '' ? null : { kind, value: text };
}

/** Describes the released fields, so a recipient can tell which values are pseudonyms. */
export function describeFields(plan: ReleasePlan): Array<{ name: string; type: string; pseudonymised: boolean }> {
  const pseudonymised = new Set(plan.dataset.pseudonymise.map((entry) => entry.field));
  return plan.fields.map((field) => ({ name: field.name, type: pseudonymised.has(field.name) ? 'string' : field.type, pseudonymised: pseudonymised.has(field.name) }));
}
