/**
 * Statements that run on every release are prepared once per PostgreSQL connection and then executed by name, so the
 * server reuses their plans. Planning is most of their cost: the agreement lookup took about 1.7 ms to plan and 0.3 ms
 * to run under the row-level security policies of the recipient's scope. PGlite runs them as ordinary statements.
 */
import type { CompiledQuery, Kysely } from 'kysely';
import type { DB } from './schema.ts';

const names = new Map<string, string>();
/**
 * A bound on distinct texts, so that a caller marking a text which varies cannot fill each connection with prepared
 * statements. Texts past the bound run unprepared.
 */
export const MAX_PREPARED = 64;

/**
 * Marks a compiled statement's text for preparing. Only fixed shapes belong here: each distinct text stays prepared
 * on every connection that runs it until the connection closes.
 */
export function prepareStatement(compiled: { sql: string }): void {
  if (!names.has(compiled.sql) && names.size < MAX_PREPARED) names.set(compiled.sql, `civic_prepared_${names.size + 1}`);
}

/** Marks a compiled statement of fixed shape for preparing, runs it and returns its rows. */
export async function executePrepared<R>(trx: Kysely<DB>, compiled: CompiledQuery<R>): Promise<R[]> {
  prepareStatement(compiled);
  return (await trx.executeQuery(compiled)).rows;
}

/** Returns the statement name of a text marked by prepareStatement, or undefined for any other text. */
export function preparedName(text: string): string | undefined {
  return names.get(text);
}

/** Returns how many texts are marked for preparing, for tests that check a statement keeps one text. */
export function preparedCount(): number {
  return names.size;
}
