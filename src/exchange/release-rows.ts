import { sql, type Kysely } from 'kysely';
import { compileRowFilter } from '../agreements/row-filter.ts';
import type { Normalisation } from '../agreements/agreement.terms.ts';
import type { SubjectIdentifier, SubjectKind } from '../audit/subject-index.ts';
import type { DB } from '../db/schema.ts';
import { isValidColumnName } from '../ingest/column-names.ts';
import type { Pseudonymiser } from './pseudonym.ts';
import type { ReleasePlan, ReleaseResource } from './release-policy.ts';

/** One page of released rows: the values shaped for the recipient, and the page as the disclosure log records it. */
export interface ReleasedPage {
  records: Array<Record<string, unknown>>;
  /** `_id` of the last row read; the next page starts after it. */
  lastId: number | null;
  released: ReleasedRows;
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
    const rows = await this.read(trx, afterId, limit);
    return { records: this.shape(rows), lastId: rows.length === 0 ? null : Number(rows[rows.length - 1]!._id), released: this.released(rows) };
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

  /** Shapes rows read by `read` for the recipient: the released fields in the agreement's order, pseudonyms included. */
  shape(rows: Array<Record<string, unknown>>): Array<Record<string, unknown>> {
    const fields = this.#fields;
    const build = recordBuilder(fields);
    const records: Array<Record<string, unknown>> = new Array(rows.length);
    for (let index = 0; index < rows.length; index++) records[index] = build(rows[index]!);
    // Pseudonymised fields are null in the built records until their values are hashed, a whole page at a time.
    for (const field of fields) {
      if (field.normalisation === null) continue;
      const pseudonyms = this.#pseudonymiser.pseudonymiseMany(rows.map((row) => row[field.name]), field.normalisation);
      for (let index = 0; index < records.length; index++) records[index]![field.name] = pseudonyms[index];
    }
    return records;
  }
}

type RecordBuilder = (row: Record<string, unknown>) => Record<string, unknown>;

/** How many field lists' record builders are kept; more than a server releases under at once. */
const KEPT_BUILDERS = 256;
const builders = new Map<string, RecordBuilder>();

/**
 * Returns a function that builds a released record from a stored row, with the fields in the agreement's order and
 * each pseudonymised one null. The function is compiled from the field names, so every property is read and written
 * by a fixed name. In the exchange bench, reading fields by names held in variables took about 0.9 ms for a page of
 * 1,000 rows of 8 fields, against 0.2 ms for the compiled function.
 */
function recordBuilder(fields: ReadonlyArray<{ name: string; normalisation: Normalisation | null }>): RecordBuilder {
  const key = JSON.stringify(fields.map((field) => [field.name, field.normalisation !== null]));
  let build = builders.get(key);
  if (!build) {
    // Only column ids (lower snake_case ASCII that starts with a letter) are written into the code.
    const invalid = fields.find((field) => !isValidColumnName(field.name));
    if (invalid) throw new Error(`The release field ${JSON.stringify(invalid.name)} is not a column id, so the release was stopped. Correct the agreement's field list.`);
    const properties = fields.map((field) => {
      const name = JSON.stringify(field.name);
      return `${name}: ${field.normalisation === null ? `row[${name}] ?? null` : 'null'}`;
    });
    build = new Function('row', `return { ${properties.join(', ')} };`) as RecordBuilder;
    if (builders.size >= KEPT_BUILDERS) builders.delete(builders.keys().next().value!);
    builders.set(key, build);
  }
  return build;
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
