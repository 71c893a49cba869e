/**
 * Reads the part of Solr's standard query syntax that CKAN clients send in package_search `q` and `fq`. A `field:value`
 * term takes a bare word, a word with a trailing `*` for a prefix, or a "quoted phrase". Plain words and phrases, the
 * `+`, `-` and `!` prefixes, `AND` and `NOT` are read too. Anything else (OR, brackets, ranges, fuzzy and boosted
 * terms, inner wildcards) is rejected with the term named, so a query is never half-read.
 */

/** Kind of match a term's value requires: the whole value, a prefix (trailing `*`), or a quoted phrase. */
export type TermMatch = 'exact' | 'prefix' | 'phrase';

export interface FieldTerm {
  kind: 'field';
  field: string;
  value: string;
  match: TermMatch;
  negated: boolean;
}

export interface TextTerm {
  kind: 'text';
  text: string;
  phrase: boolean;
  negated: boolean;
}

export type SearchTerm = FieldTerm | TextTerm;

/** A problem with one term, reported by the caller as an error on its parameter. */
export class QuerySyntaxError extends Error {
  override name = 'QuerySyntaxError';
}

const FIELD_TERM = /^([A-Za-z_][A-Za-z0-9_]*):(.*)$/s;
/** Characters with a meaning in Solr's syntax that this reader does not support inside a value. */
const UNSUPPORTED_VALUE = /[()[\]{}^~?\\/:!]/;

/** Splits text into terms at whitespace outside double quotes; a quote with no closing quote is an error. */
function tokens(text: string): string[] {
  const found: string[] = [];
  let current = '';
  let quoted = false;
  for (const character of text) {
    if (character === '"') quoted = !quoted;
    if (!quoted && /\s/.test(character)) {
      if (current !== '') found.push(current);
      current = '';
    } else current += character;
  }
  if (quoted) throw new QuerySyntaxError(`The term ${current} has no closing double quote.`);
  if (current !== '') found.push(current);
  return found;
}

/** Returns whether text uses `field:value` syntax, so that it is read as a Solr query rather than as plain words. */
export function hasFieldSyntax(text: string): boolean {
  return text.split(/\s+/).some((word) => /^[+\-!]?[A-Za-z_][A-Za-z0-9_]*:/.test(word));
}

function readValue(term: string, value: string): { value: string; match: TermMatch } {
  if (value.startsWith('"')) {
    if (value.length < 2 || !value.endsWith('"') || value.slice(1, -1).includes('"')) {
      throw new QuerySyntaxError(`Cannot read ${term}: a quoted value must be one phrase in double quotes, such as title:"public toilets".`);
    }
    const phrase = value.slice(1, -1).trim();
    if (phrase === '') throw new QuerySyntaxError(`Cannot read ${term}: the phrase is empty.`);
    return { value: phrase, match: 'phrase' };
  }
  const prefix = value.endsWith('*');
  const bare = prefix ? value.slice(0, -1) : value;
  if (bare === '') throw new QuerySyntaxError(`Cannot read ${term}: give a value, such as name:spending or name:spend* for a prefix.`);
  if (bare.includes('*') || bare.includes('"') || UNSUPPORTED_VALUE.test(bare)) {
    throw new QuerySyntaxError(`Cannot read ${term}: only a plain value, a value ending in * for a prefix, or a "quoted phrase" is supported.`);
  }
  return { value: bare, match: prefix ? 'prefix' : 'exact' };
}

/**
 * Parses `text` into terms. `fields` lists the fields a term may name. Plain words and phrases are allowed only when
 * `allowText` is set (in `q`, not in `fq`). Terms are combined with AND, as CKAN sets Solr's default operator.
 */
export function parseSolrQuery(text: string, fields: readonly string[], allowText: boolean): SearchTerm[] {
  const terms: SearchTerm[] = [];
  let negateNext = false;
  for (const token of tokens(text)) {
    if (token === 'AND' || token === '&&') continue;
    if (token === 'NOT') {
      negateNext = true;
      continue;
    }
    if (token === 'OR' || token === '||') throw new QuerySyntaxError(`${token} is not supported: every term must match. Send one query per alternative instead.`);
    const sign = /^[+\-!]/.test(token) ? token[0]! : '';
    const body = token.slice(sign.length);
    const negated = negateNext || sign === '-' || sign === '!';
    negateNext = false;

    const field = FIELD_TERM.exec(body);
    if (field) {
      const name = field[1]!;
      if (!fields.includes(name)) throw new QuerySyntaxError(`The field in ${token} is not supported. Use one of: ${fields.join(', ')}.`);
      terms.push({ kind: 'field', field: name, ...readValue(token, field[2]!), negated });
      continue;
    }
    if (!allowText) throw new QuerySyntaxError(`Cannot read ${token}. Write each filter as field:value, with one of: ${fields.join(', ')}.`);
    if (body.startsWith('"') && body.endsWith('"') && body.length >= 2) {
      const phrase = body.slice(1, -1).trim();
      if (phrase !== '') terms.push({ kind: 'text', text: phrase, phrase: true, negated });
      continue;
    }
    if (body.includes('"') || UNSUPPORTED_VALUE.test(body) || /\*./.test(body)) {
      throw new QuerySyntaxError(`Cannot read ${token}: brackets, ranges, fuzzy or boosted terms and inner wildcards are not supported.`);
    }
    terms.push({ kind: 'text', text: body.replace(/\*$/, ''), phrase: false, negated });
  }
  if (negateNext) throw new QuerySyntaxError('NOT must be followed by a term.');
  return terms;
}
