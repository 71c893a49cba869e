/**
 * Runs the benchmarks, each in its own process: `npm run bench` runs all of them, `npm run bench -- NAME [args]` runs
 * one, passing the remaining arguments (such as a row count) on to it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const BENCHES: Record<string, string> = {
  audit: 'audit.bench.ts',
  'datastore-search': 'datastore-search.bench.ts',
  import: 'import.bench.ts',
  'ingest-throughput': 'ingest-throughput.ts',
};

const [name, ...rest] = process.argv.slice(2);
if (name !== undefined && !(name in BENCHES)) {
  console.error(`There is no benchmark called "${name}". Use one of: ${Object.keys(BENCHES).join(', ')}.`);
  process.exit(2);
}

let failed = false;
for (const [benchName, file] of Object.entries(BENCHES)) {
  if (name !== undefined && benchName !== name) continue;
  console.log(`== ${benchName}`);
  const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, file), ...rest], { stdio: 'inherit' });
  if (result.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
