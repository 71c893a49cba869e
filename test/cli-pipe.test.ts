/**
 * The `civic` command writing into a pipe whose reader has gone, as in `civic audit export | head -1`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const CLI = path.resolve(import.meta.dirname, '../bin/civic.mjs');

test('closed stdout ends the command quietly', async () => {
  const child = spawn(process.execPath, [CLI, 'import', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
  // The reader goes before the command writes anything, so every write meets a closed pipe.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const status = await new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  assert.equal(stderr, '', 'no stack trace or message on standard error');
  assert.equal(status, 0);
});
