/**
 * Operation ids of the OpenAPI document. Client generators name their methods after them, so each id is derived from
 * the method and path alone and stays the same while the path does. A route that sets `operationId` in its schema
 * keeps its own.
 */

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** API prefixes left out of ids. The CKAN actions keep a `Ckan` word, so their ids cannot match those of native paths. */
const PREFIXES: ReadonlyArray<[string, string]> = [
  ['/api/3/action/', '/ckan/'],
  ['/api/v1/', '/'],
  ['/api/', '/'],
];

function capitalise(word: string): string {
  return word.charAt(0).toUpperCase() + word.slice(1);
}

/**
 * Derives the id of an operation: the method, then each word of the path, with a parameter as `By` and its name.
 * `GET /api/v1/datasets/{slug}/versions` becomes `getDatasetsBySlugVersions`, `POST /api/3/action/package_search`
 * becomes `postCkanPackageSearch` and `GET /catalog.jsonld` becomes `getCatalogJsonld`.
 */
export function operationIdFor(method: string, path: string): string {
  const prefix = PREFIXES.find(([start]) => path.startsWith(start));
  const rest = prefix ? prefix[1] + path.slice(prefix[0].length) : path;
  const words = rest
    .split('/')
    .filter((segment) => segment !== '')
    .flatMap((segment) => segment.replace(/\{(\w+)\}/g, '.by.$1').split(/[^A-Za-z0-9]+/))
    .filter((word) => word !== '');
  return method.toLowerCase() + words.map(capitalise).join('');
}

type Operations = Partial<Record<(typeof METHODS)[number], { operationId?: string }>>;

/** Sets a derived operationId on every operation of `paths` that has none. */
export function addOperationIds(paths: Record<string, Operations | undefined>): void {
  for (const [path, operations] of Object.entries(paths)) {
    for (const method of METHODS) {
      const operation = operations?.[method];
      if (operation && !operation.operationId) operation.operationId = operationIdFor(method, path);
    }
  }
}
