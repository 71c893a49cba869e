import pino from 'pino';

/**
 * Properties that database drivers attach to errors and that carry data values: the bound parameters (PGlite adds
 * `params` and `queryOptions` to every failed query) and the server's `detail` (such as "Key (email)=(…) already
 * exists" or "Failing row contains (…)").
 */
const VALUE_PROPERTIES = ['params', 'queryOptions', 'detail'];

const QUOTED = /"(?:[^"]|"")*"|'(?:[^']|'')*'/g;

interface DatabaseErrorLike {
  message: string;
  code: string;
  severity: string;
  cause?: unknown;
}

function isDatabaseError(value: unknown): value is DatabaseErrorLike {
  const candidate = value as Partial<DatabaseErrorLike> | null;
  return typeof candidate?.message === 'string' && typeof candidate.severity === 'string' && typeof candidate.code === 'string' && /^[0-9A-Z]{5}$/.test(candidate.code);
}

/**
 * PostgreSQL quotes the rejected value in the messages of its data exceptions (SQLSTATE class 22), such as
 * `invalid input syntax for type integer: "…"`. Messages of the other classes are kept: they quote names of tables,
 * columns and constraints, or a token of the SQL text.
 */
function messageWithoutValues(error: DatabaseErrorLike): string {
  return error.code.startsWith('22') ? error.message.replace(QUOTED, '"[redacted]"') : error.message;
}

/** Pairs each database error message in the cause chain with the same message without its values. */
function valueMessages(error: unknown): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== null && typeof current === 'object' && !seen.has(current)) {
    seen.add(current);
    if (isDatabaseError(current)) {
      const scrubbed = messageWithoutValues(current);
      if (scrubbed !== current.message) pairs.push([current.message, scrubbed]);
    }
    current = (current as { cause?: unknown }).cause;
  }
  return pairs;
}

/**
 * Serialises an error as pino's standard serialiser does, then removes the data values that database errors carry,
 * because a logged error may hold personal data from a row or a secret bound as a query parameter. The SQL text, the
 * SQLSTATE code, the constraint and the routine stay, so the failure can still be found.
 */
export function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const serialized = pino.stdSerializers.err(error) as Record<string, unknown> & { message: string; stack: string };
  for (const property of VALUE_PROPERTIES) delete serialized[property];
  if (typeof serialized.where === 'string') serialized.where = serialized.where.replace(QUOTED, '"[redacted]"');
  for (const [message, scrubbed] of valueMessages(error)) {
    serialized.message = serialized.message.split(message).join(scrubbed);
    serialized.stack = serialized.stack.split(message).join(scrubbed);
  }
  return serialized;
}
