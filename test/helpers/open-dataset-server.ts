import fs from 'node:fs';
import path from 'node:path';
import type { TestEngine } from './engines.ts';
import { temporaryFolder } from './import-fixtures.ts';
import { startTestServer, testServices } from './services.ts';

/** A server on a fresh test database with one CSV imported as an open dataset. */
export interface OpenDatasetServer {
  url: string;
  resourceId: string;
  close(): Promise<void>;
}

/** Imports `csv` as the open dataset `dataset` on a fresh database of `engine` and starts a server over it. */
export async function startOpenDatasetServer(engine: TestEngine, dataset: string, csv: string): Promise<OpenDatasetServer> {
  const handle = await engine.create();
  const folder = temporaryFolder(`civic-${dataset}-`);
  const services = testServices(handle.db);
  const file = path.join(folder.path, `${dataset}.csv`);
  fs.writeFileSync(file, csv);
  const report = await services.imports.importFile({ path: file, filename: `${dataset}.csv` }, { organisation: 'test-council', dataset, visibility: 'open', actor: { kind: 'operator', name: 'test' } });
  const server = await startTestServer(services);
  return {
    url: server.url,
    resourceId: report.resource_id,
    async close() {
      await server.close();
      await handle.drop();
      folder.remove();
    },
  };
}
