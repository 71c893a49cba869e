/**
 * A small RDF graph model with two serialisations, JSON-LD (compacted with prefixes, context inline) and Turtle, so
 * the DCAT catalogue is built once and written in either syntax.
 */
export const PREFIXES = {
  dcat: 'http://www.w3.org/ns/dcat#',
  dct: 'http://purl.org/dc/terms/',
  foaf: 'http://xmlns.com/foaf/0.1/',
  vcard: 'http://www.w3.org/2006/vcard/ns#',
  skos: 'http://www.w3.org/2004/02/skos/core#',
  xsd: 'http://www.w3.org/2001/XMLSchema#',
  hydra: 'http://www.w3.org/ns/hydra/core#',
  rdfs: 'http://www.w3.org/2000/01/rdf-schema#',
} as const;

export type Prefixed = `${keyof typeof PREFIXES}:${string}`;

export interface Iri {
  iri: string;
}

export interface Literal {
  value: string;
  datatype?: Prefixed;
  language?: string;
}

/** A resource with properties; without `id` it is a blank node. */
export interface RdfNode {
  id?: string;
  types: Prefixed[];
  properties: Array<[Prefixed, RdfObject | RdfObject[] | undefined]>;
}

export type RdfObject = Iri | Literal | RdfNode | string;

export const iri = (value: string): Iri => ({ iri: value });
export const typed = (value: string, datatype: Prefixed): Literal => ({ value, datatype });
export const english = (value: string): Literal => ({ value, language: 'en' });

function isNode(value: RdfObject): value is RdfNode {
  return typeof value === 'object' && 'types' in value;
}

function isIri(value: RdfObject): value is Iri {
  return typeof value === 'object' && 'iri' in value;
}

function objects(value: RdfObject | RdfObject[] | undefined): RdfObject[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The JSON-LD @context: the prefixes only, so every key in the document is a prefixed IRI. */
export const JSON_LD_CONTEXT: Record<string, string> = { ...PREFIXES };

function toJsonLdValue(value: RdfObject): unknown {
  if (typeof value === 'string') return value;
  if (isIri(value)) return { '@id': value.iri };
  if (isNode(value)) return toJsonLdNode(value);
  if (value.datatype) return { '@value': value.value, '@type': value.datatype };
  if (value.language) return { '@value': value.value, '@language': value.language };
  return value.value;
}

export function toJsonLdNode(node: RdfNode): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (node.id) out['@id'] = node.id;
  if (node.types.length > 0) out['@type'] = node.types.length === 1 ? node.types[0] : node.types;
  for (const [predicate, value] of node.properties) {
    const values = objects(value).map(toJsonLdValue);
    if (values.length === 0) continue;
    out[predicate] = values.length === 1 && !Array.isArray(value) ? values[0] : values;
  }
  return out;
}

/** Writes the nodes as a JSON-LD document with the context inline, so readers need to fetch nothing. */
export function toJsonLd(nodes: RdfNode[]): Record<string, unknown> {
  return { '@context': JSON_LD_CONTEXT, '@graph': nodes.map(toJsonLdNode) };
}

function turtleString(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\r/g, '\\r').replace(/\t/g, '\\t')}"`;
}

function turtleIri(value: string): string {
  // IRIREF forbids these characters unescaped; percent-encoding keeps the IRI's meaning for URLs.
  return `<${value.replace(/[\u0000-\u0020<>"{}|^`\\]/g, (character) => encodeURIComponent(character))}>`;
}

function turtleObject(value: RdfObject, indent: string, pending: RdfNode[]): string {
  if (typeof value === 'string') return turtleString(value);
  if (isIri(value)) return turtleIri(value.iri);
  if (isNode(value)) {
    if (value.id) {
      pending.push(value);
      return turtleIri(value.id);
    }
    return `[\n${turtleBody(value, `${indent}    `, pending)}\n${indent}  ]`;
  }
  if (value.datatype) return `${turtleString(value.value)}^^${value.datatype}`;
  if (value.language) return `${turtleString(value.value)}@${value.language}`;
  return turtleString(value.value);
}

function turtleBody(node: RdfNode, indent: string, pending: RdfNode[]): string {
  const lines: string[] = [];
  if (node.types.length > 0) lines.push(`${indent}a ${node.types.join(', ')}`);
  for (const [predicate, value] of node.properties) {
    const rendered = objects(value).map((item) => turtleObject(item, indent, pending));
    if (rendered.length > 0) lines.push(`${indent}${predicate} ${rendered.join(', ')}`);
  }
  return lines.join(' ;\n');
}

/** Writes the nodes as a Turtle document. Nested nodes with an IRI become their own statements, written once each. */
export function toTurtle(nodes: RdfNode[]): string {
  const header = Object.entries(PREFIXES).map(([prefix, namespace]) => `@prefix ${prefix}: <${namespace}> .`);
  const blocks: string[] = [];
  const written = new Set<string>();
  const queue = [...nodes];
  while (queue.length > 0) {
    const node = queue.shift()!;
    if (node.id && written.has(node.id)) continue;
    if (node.id) written.add(node.id);
    const pending: RdfNode[] = [];
    const subject = node.id ? turtleIri(node.id) : '[]';
    blocks.push(`${subject}\n${turtleBody(node, '  ', pending)} .`);
    queue.push(...pending);
  }
  return `${header.join('\n')}\n\n${blocks.join('\n\n')}\n`;
}
