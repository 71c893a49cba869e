#!/usr/bin/env node
// Runs every *.test.ts file under src/ and test/ with node's test runner (Node.js 20 does not expand globs itself).
// Arguments narrow the run to files whose path contains one of them: `npm test -- ingest ckan`.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const HELP = `Usage: npm test [-- WORD ...] [-- NODE_TEST_OPTION ...]

Runs every *.test.ts file under src/ and test/, one file at a time, on PGlite, and on PostgreSQL as well when
TEST_DATABASE_URL is set (each run creates and drops its own database).

  WORD               Run only the test files whose path contains one of the words, such as: npm test -- ingest ckan
  NODE_TEST_OPTION   Passed to node's test runner, such as --test-name-pattern="worked example" or --test-reporter=dot
  --help, -h         Show this help.`;

if (process.argv.includes('--help') || process.argv.includes('-h')) {
  console.log(HELP);
  process.exit(0);
}

const filters = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
const passThrough = process.argv.slice(2).filter((arg) => arg.startsWith('-'));
const files = ['src', 'test']
  .flatMap((root) => fs.readdirSync(root, { recursive: true }).map((name) => path.join(root, String(name))))
  .filter((file) => file.endsWith('.test.ts'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();

if (files.length === 0) {
  console.error(`No test files match ${filters.join(', ')}.`);
  process.exit(1);
}

const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--import', './test/setup.ts', '--test', '--test-concurrency=1', ...passThrough, ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
