/**
 * `civic serve` as an operator runs it: the real command in a child process, on an embedded database in a temporary
 * data folder, on a loopback port.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Database } from '../src/db/database.ts';
import { temporaryFolder } from './helpers/import-fixtures.ts';

const execFileAsync = promisify(execFile);
const CLI = path.resolve(import.meta.dirname, '../bin/civic.mjs');
/** How long the server may take to migrate a new database and return 200 from /healthz. */
const START_LIMIT_MS = 60_000;

/** Returns a loopback port that was free a moment ago. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls /healthz every 200 ms until it returns 200, the process exits, or START_LIMIT_MS passes. */
async function waitUntilHealthy(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + START_LIMIT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`civic serve exited with status ${child.exitCode} before it was healthy`);
    try {
      if ((await fetch(`${url}/healthz`)).status === 200) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`civic serve did not answer ${url}/healthz within ${START_LIMIT_MS} ms`);
}

describe('civic serve command', () => {
  const folder = temporaryFolder('civic-serve-');
  after(() => folder.remove());

  test('--port sets links; SIGTERM stops', async () => {
    const port = await freePort();
    const env: NodeJS.ProcessEnv = { ...process.env, CIVIC_DATA_DIR: path.join(folder.path, 'data'), DATABASE_URL: '', PORT: '3999', LOG_LEVEL: 'warn' };
    delete env.PUBLIC_URL;
    const child = spawn(process.execPath, [CLI, 'serve', '--port', String(port)], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const url = `http://127.0.0.1:${port}`;
    try {
      await waitUntilHealthy(url, child);
      const document = (await (await fetch(`${url}/api/openapi.json`)).json()) as { servers: Array<{ url: string }> };
      assert.deepEqual(document.servers.map((server) => server.url), [`http://localhost:${port}`], 'links follow --port, not PORT');
      const list = (await (await fetch(`${url}/api/3/action/package_list`)).json()) as { help: string };
      assert.ok(list.help.startsWith(`http://localhost:${port}/`), list.help);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0, `civic serve exits cleanly on SIGTERM: ${stderr.slice(-500)}`);
  });

  test('busy port stops before seeding', async () => {
    const dataDir = path.join(folder.path, 'busy');
    const occupier = net.createServer();
    await new Promise<void>((resolve) => occupier.listen(0, '127.0.0.1', resolve));
    const { port } = occupier.address() as net.AddressInfo;
    try {
      const env: NodeJS.ProcessEnv = { ...process.env, CIVIC_DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'warn' };
      let status = 0;
      let stderr = '';
      try {
        await execFileAsync(process.execPath, [CLI, 'serve', '--port', String(port), '--seed'], { env });
      } catch (error) {
        const failed = error as { code: number; stderr: string };
        status = failed.code;
        stderr = failed.stderr;
      }
      assert.equal(status, 1);
      assert.match(stderr, new RegExp(`Port ${port} on 127\\.0\\.0\\.1 is already in use by another program`));
    } finally {
      await new Promise<void>((resolve) => occupier.close(() => resolve()));
    }
    const db = await Database.open({ engine: 'pglite', dataDir });
    try {
      await db.migrate();
      const datasets = await db.owner.selectFrom('datasets').select('slug').execute();
      assert.deepEqual(datasets, [], 'no sample was loaded for a server that could not start');
    } finally {
      await db.close();
    }
  });
});
