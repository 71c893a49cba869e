#!/usr/bin/env node
// Builds the native lane of the CSV analysis (native/csv_lane.cc) with node-gyp, as `npm ci` runs it. Without a C++
// compiler the build fails. The import then reads every file through its TypeScript path, which gives the same rows
// more slowly, so a failed build warns and does not fail the install.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const nativeFolder = path.join(root, 'native');

/** Finds node-gyp: the one npm names while it runs this script, or the one bundled with npm. */
function nodeGyp() {
  if (process.env.npm_config_node_gyp) return process.env.npm_config_node_gyp;
  try {
    const npmRoot = path.dirname(path.dirname(process.env.npm_execpath ?? ''));
    return createRequire(path.join(npmRoot, 'package.json')).resolve('node-gyp/bin/node-gyp.js');
  } catch {
    return createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');
  }
}

let gyp;
try {
  gyp = nodeGyp();
} catch {
  console.warn('civic: node-gyp was not found, so the native CSV lane was not built; imports use the TypeScript path.');
  process.exit(0);
}
const args = [gyp, 'rebuild'];
if (process.env.npm_config_nodedir) args.push(`--nodedir=${process.env.npm_config_nodedir}`);
const result = spawnSync(process.execPath, args, { cwd: nativeFolder, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
if (result.status !== 0) {
  const reason = (result.stderr ?? '').split('\n').filter((line) => /error/i.test(line)).slice(0, 5).join('\n');
  console.warn(`civic: the native CSV lane did not build, so imports use the TypeScript path (same rows, slower).\n${reason}`);
  process.exit(0);
}
