import { parse, scan } from 'libpg-query';
import { invalidParameter } from './datastore-params.ts';
import { isUuid } from './access.ts';

/**
 * Checks a datastore_search_sql query against an allow-list, using the PostgreSQL parser itself: one SELECT (with
 * CTEs, joins, subqueries, set operations, grouping, ordering and limits) over datastore tables named by resource id,
 * with column references, constants, operators, CASE, casts to plain types, aggregates, window functions and pure
 * functions. Any node, function, type or table outside the lists is rejected with a message naming it.
 */

/** Parse-tree node types a query may contain. Anything else (DML, utility statements, locking, SELECT INTO) fails. */
const ALLOWED_NODES = new Set([
  'SelectStmt', 'ResTarget', 'ColumnRef', 'A_Star', 'A_Const', 'A_Expr', 'BoolExpr', 'NullTest', 'BooleanTest',
  'CaseExpr', 'CaseWhen', 'CoalesceExpr', 'MinMaxExpr', 'NullIfExpr', 'SubLink', 'TypeCast', 'TypeName', 'FuncCall',
  'SortBy', 'WindowDef', 'RangeVar', 'JoinExpr', 'RangeSubselect', 'Alias', 'WithClause', 'CommonTableExpr', 'List',
  'String', 'Integer', 'Float', 'Boolean', 'A_ArrayExpr', 'A_Indirection', 'A_Indices', 'RowExpr', 'GroupingSet',
  'SQLValueFunction', 'CollateClause',
]);

/** Functions with no side effects and no access to anything but their arguments. */
const ALLOWED_FUNCTIONS = new Set([
  // aggregates
  'count', 'sum', 'avg', 'min', 'max', 'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp',
  'string_agg', 'array_agg', 'bool_and', 'bool_or', 'every', 'percentile_cont', 'percentile_disc', 'mode', 'corr',
  'covar_pop', 'covar_samp', 'regr_slope', 'regr_intercept',
  // window functions
  'row_number', 'rank', 'dense_rank', 'percent_rank', 'cume_dist', 'ntile', 'lag', 'lead', 'first_value',
  'last_value', 'nth_value',
  // text
  'lower', 'upper', 'initcap', 'length', 'char_length', 'character_length', 'octet_length', 'substring', 'substr',
  'trim', 'btrim', 'ltrim', 'rtrim', 'replace', 'concat', 'concat_ws', 'left', 'right', 'lpad', 'rpad', 'strpos',
  'position', 'split_part', 'starts_with', 'reverse', 'repeat', 'translate', 'regexp_replace', 'regexp_match',
  'regexp_like', 'regexp_count', 'format', 'to_char', 'to_number', 'md5',
  // numbers
  'abs', 'ceil', 'ceiling', 'floor', 'round', 'trunc', 'sign', 'sqrt', 'cbrt', 'power', 'pow', 'exp', 'ln', 'log',
  'log10', 'mod', 'div', 'greatest', 'least', 'width_bucket', 'random',
  // dates and times
  'date_trunc', 'date_part', 'extract', 'to_date', 'to_timestamp', 'make_date', 'make_timestamp', 'make_interval',
  'age', 'now', 'date_bin', 'justify_days', 'justify_hours', 'justify_interval', 'isfinite',
  // full-text search and arrays
  'to_tsvector', 'to_tsquery', 'plainto_tsquery', 'websearch_to_tsquery', 'phraseto_tsquery', 'ts_rank', 'ts_headline',
  'array_length', 'array_position', 'array_to_string', 'string_to_array', 'cardinality', 'unnest',
  // JSON construction
  'json_build_object', 'jsonb_build_object', 'json_build_array', 'jsonb_build_array', 'json_agg', 'jsonb_agg',
  'json_object_agg', 'jsonb_object_agg', 'to_json', 'to_jsonb',
]);

/** Types a cast may target; `regclass`, `regproc` and the like would reach the system catalogues. */
const ALLOWED_TYPES = new Set([
  'text', 'varchar', 'bpchar', 'char', 'int2', 'int4', 'int8', 'smallint', 'integer', 'int', 'bigint', 'numeric',
  'decimal', 'float4', 'float8', 'real', 'double precision', 'bool', 'boolean', 'date', 'time', 'timetz', 'timestamp',
  'timestamptz', 'interval', 'json', 'jsonb', 'tsvector', 'tsquery',
]);

/** CURRENT_DATE and its kin are allowed; CURRENT_USER, SESSION_USER and CURRENT_SCHEMA would describe the server. */
const ALLOWED_VALUE_FUNCTIONS = new Set([
  'SVFOP_CURRENT_DATE', 'SVFOP_CURRENT_TIME', 'SVFOP_CURRENT_TIME_N', 'SVFOP_CURRENT_TIMESTAMP',
  'SVFOP_CURRENT_TIMESTAMP_N', 'SVFOP_LOCALTIME', 'SVFOP_LOCALTIME_N', 'SVFOP_LOCALTIMESTAMP', 'SVFOP_LOCALTIMESTAMP_N',
]);

/** A table reference by resource id, with its byte position in the query text. */
export interface TableReference {
  resourceId: string;
  /** Byte offset of the name in the UTF-8 query. */
  location: number;
  hasAlias: boolean;
}

export interface CheckedQuery {
  references: TableReference[];
}

const rejected = (message: string) => invalidParameter('sql', message);

type Node = Record<string, unknown>;

function names(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item) => ((item as { String?: { sval?: string } }).String?.sval ?? '').toLowerCase());
}

/** Parses the query and walks every node; returns the resource tables it reads. */
export async function checkSelectQuery(query: string): Promise<CheckedQuery> {
  let tree: { stmts?: Array<{ stmt?: Node }> };
  try {
    tree = (await parse(query)) as typeof tree;
  } catch (error) {
    throw rejected(`The query is not valid SQL: ${(error as Error).message}.`);
  }
  const statements = tree.stmts ?? [];
  if (statements.length !== 1) throw rejected(`Send exactly one statement; the query has ${statements.length}.`);
  const statement = statements[0]!.stmt ?? {};
  const kind = Object.keys(statement)[0] ?? 'empty statement';
  if (kind !== 'SelectStmt') throw rejected(`Only SELECT queries are allowed, not ${kind.replace(/Stmt$/, '').toUpperCase()}.`);

  const references: TableReference[] = [];
  walk(statement, new Set(), references);
  return { references };
}

/**
 * Walks the tree with the CTE names in scope at each node. A table name counts as a CTE only where PostgreSQL would
 * resolve it to one: in the statement that declares the WITH list and in its subqueries. Inside a plain WITH list a
 * CTE can refer only to the CTEs before it, and under WITH RECURSIVE to every one. Anywhere else the same name would
 * resolve to a real table on the search path (such as `users` or `pg_user`), so it must not pass as a CTE.
 */
function walk(value: unknown, cteScope: ReadonlySet<string>, references: TableReference[]): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, cteScope, references);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value as Node)) {
    if (key === 'SelectStmt') {
      walkSelect(child as Node, cteScope, references);
      continue;
    }
    // Node wrappers are keyed by a capitalised type name; lower-case keys are fields of the node above.
    if (/^[A-Z]/.test(key)) checkNode(key, child as Node, cteScope, references);
    walk(child, cteScope, references);
  }
}

function walkSelect(node: Node, outerScope: ReadonlySet<string>, references: TableReference[]): void {
  checkNode('SelectStmt', node, outerScope, references);
  const withClause = node.withClause as { ctes?: unknown[]; recursive?: boolean } | undefined;
  const ctes = withClause?.ctes ?? [];
  const cteNames = ctes.map((cte) => String((cte as { CommonTableExpr?: { ctename?: string } }).CommonTableExpr?.ctename ?? ''));
  const innerScope = new Set([...outerScope, ...cteNames]);
  ctes.forEach((cte, index) => {
    const visible = withClause?.recursive ? innerScope : new Set([...outerScope, ...cteNames.slice(0, index)]);
    walk(cte, visible, references);
  });
  for (const [key, child] of Object.entries(node)) {
    if (key === 'withClause') continue;
    // The branches of UNION, INTERSECT and EXCEPT are select statements without a node wrapper.
    if ((key === 'larg' || key === 'rarg') && child !== null && typeof child === 'object') walkSelect(child as Node, innerScope, references);
    else walk(child, innerScope, references);
  }
}

function checkNode(type: string, node: Node, cteScope: ReadonlySet<string>, references: TableReference[]): void {
  if (!ALLOWED_NODES.has(type)) throw rejected(`${describeNode(type)} not allowed in datastore_search_sql.`);
  switch (type) {
    case 'SelectStmt':
      if (node.intoClause) throw rejected('SELECT INTO is not allowed; it would create a table.');
      if (node.lockingClause) throw rejected('FOR UPDATE and FOR SHARE are not allowed.');
      return;
    case 'CommonTableExpr': {
      const inner = Object.keys((node.ctequery as Node | undefined) ?? {})[0];
      if (inner !== 'SelectStmt') throw rejected(`WITH ${String(node.ctename)} must be a SELECT; data-modifying WITH queries are not allowed.`);
      return;
    }
    case 'RangeVar':
      return checkTable(node, cteScope, references);
    case 'FuncCall': {
      const parts = names(node.funcname);
      const name = parts[parts.length - 1] ?? '';
      if ((parts.length > 2 || (parts.length === 2 && parts[0] !== 'pg_catalog')) || !ALLOWED_FUNCTIONS.has(name)) {
        throw rejected(`Function ${parts.join('.')} is not allowed in datastore_search_sql.`);
      }
      return;
    }
    case 'TypeCast':
      return checkType(node.typeName as Node | undefined);
    case 'TypeName':
      return checkType(node);
    case 'A_Expr': {
      const operator = names(node.name);
      if (operator.length > 1) throw rejected(`Operator ${operator.join('.')} is not allowed; use operators without a schema.`);
      return;
    }
    case 'ColumnRef':
      if (Array.isArray(node.fields) && node.fields.length > 2) throw rejected('Column references may name a table and a column, but not a schema.');
      return;
    case 'SQLValueFunction':
      if (!ALLOWED_VALUE_FUNCTIONS.has(String(node.op))) throw rejected(`${String(node.op).replace('SVFOP_', '')} is not allowed in datastore_search_sql.`);
      return;
    default:
      return;
  }
}

function checkType(typeName: Node | undefined): void {
  const parts = names(typeName?.names);
  const name = parts[parts.length - 1] ?? '';
  if (parts.length > 2 || (parts.length === 2 && parts[0] !== 'pg_catalog') || !ALLOWED_TYPES.has(name)) {
    throw rejected(`Type ${parts.join('.')} is not allowed in datastore_search_sql. Cast to a plain type such as text, numeric or date.`);
  }
}

function checkTable(node: Node, cteScope: ReadonlySet<string>, references: TableReference[]): void {
  const relname = String(node.relname ?? '');
  if (node.schemaname || node.catalogname) {
    throw rejected(`Table ${[node.catalogname, node.schemaname, relname].filter(Boolean).join('.')} is not allowed. Refer to datastore tables by resource id, such as "<resource id>".`);
  }
  if (cteScope.has(relname)) return;
  if (!isUuid(relname)) throw rejected(`Table ${relname} is not allowed. Refer to datastore tables by resource id, such as "<resource id>".`);
  references.push({ resourceId: relname.toLowerCase(), location: Number(node.location), hasAlias: Boolean(node.alias) });
}

function describeNode(type: string): string {
  const statement = /^(\w+?)Stmt$/.exec(type);
  if (statement) return `${statement[1]!.toUpperCase()} statements are`;
  const labels: Record<string, string> = {
    RangeFunction: 'A function in FROM',
    ParamRef: 'A parameter placeholder',
    RangeTableSample: 'TABLESAMPLE',
    XmlExpr: 'An XML expression',
    IntoClause: 'SELECT INTO',
    LockingClause: 'FOR UPDATE or FOR SHARE',
  };
  return `${labels[type] ?? type} is`;
}

/**
 * Rewrites each resource reference to its datastore table by replacing the name token at the parser's byte position,
 * keeping the resource id as the alias so column references such as "<resource id>".amount still resolve.
 */
export async function rewriteTables(query: string, references: TableReference[], tableNames: Map<string, string>): Promise<string> {
  const bytes = Buffer.from(query, 'utf8');
  const { tokens } = await scan(query);
  const edits = references.map((reference) => {
    const token = tokens.find((candidate) => candidate.start === reference.location);
    const tableName = tableNames.get(reference.resourceId);
    if (!token || tableName === undefined) throw rejected(`Cannot read the table reference at position ${reference.location}.`);
    const replacement = `datastore."${tableName}"` + (reference.hasAlias ? '' : ` as "${reference.resourceId}"`);
    return { start: token.start, end: token.end, replacement };
  });
  edits.sort((a, b) => b.start - a.start);
  let output = bytes;
  for (const edit of edits) {
    output = Buffer.concat([output.subarray(0, edit.start), Buffer.from(edit.replacement, 'utf8'), output.subarray(edit.end)]);
  }
  return output.toString('utf8');
}
