/**
 * `civic verify-export` run offline, as a recipient checks a saved export: the real command in a child process, with
 * the key set saved from /api/v1/exchange/signing-keys and no server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { contentDigest, ExchangeSigner } from '../src/exchange/signing.ts';
import { KeyRing } from '../src/keys/key-ring.ts';
import { temporaryFolder } from './helpers/import-fixtures.ts';

const CLI = path.resolve(import.meta.dirname, '../bin/civic.mjs');

function civic(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, 'verify-export', ...args], { encoding: 'utf8' }, (error, stdout, stderr) => {
      let status = 0;
      if (error !== null) status = typeof error.code === 'number' ? error.code : 1;
      resolve({ status, stdout, stderr });
    });
  });
}

describe('civic verify-export offline', () => {
  const folder = temporaryFolder('civic-verify-');
  after(() => folder.remove());

  const signer = new ExchangeSigner(new KeyRing(randomBytes(32)));
  const body = 'date,amount\n2025-04-29,697\n';
  const exportFile = path.join(folder.path, 'export.csv');
  fs.writeFileSync(exportFile, body);
  const signature = signer.signDigest(contentDigest(body));
  // The reply of /api/v1/exchange/signing-keys, saved as it is.
  const keySetFile = path.join(folder.path, 'signing-keys.json');
  fs.writeFileSync(keySetFile, JSON.stringify({ keys: [signer.publishedKey()] }));

  test('saved key set checks the file', async () => {
    const result = await civic([exportFile, '--signature', signature, '--public-key', keySetFile]);
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /Signature: valid/);
  });

  test('tampered file against key set', async () => {
    const tampered = path.join(folder.path, 'tampered.csv');
    fs.writeFileSync(tampered, body.replace('697', '698'));
    const result = await civic([tampered, '--signature', signature, '--public-key', keySetFile]);
    assert.equal(result.status, 1);
    assert.match(result.stdout, /Signature: INVALID/);
  });

  test('key set without the signer key', async () => {
    const otherSet = path.join(folder.path, 'other-keys.json');
    fs.writeFileSync(otherSet, JSON.stringify({ keys: [{ ...signer.publishedKey(), kid: 'civic-ed25519-0000000000000000' }] }));
    const result = await civic([exportFile, '--signature', signature, '--public-key', otherSet]);
    assert.equal(result.status, 1);
    assert.match(result.stderr, new RegExp(`no key with the id ${signer.keyId}`));
    assert.match(result.stderr, /civic-ed25519-0000000000000000/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  test('missing key file is named', async () => {
    const missing = path.join(folder.path, 'no-such-keys.json');
    const result = await civic([exportFile, '--signature', signature, '--public-key', missing]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, new RegExp(`No file ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} exists`));
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  test('unreadable key is explained', async () => {
    const broken = path.join(folder.path, 'broken.json');
    fs.writeFileSync(broken, '{"kty":"OKP"}');
    const result = await civic([exportFile, '--signature', signature, '--public-key', broken]);
    assert.equal(result.status, 2);
    assert.match(result.stderr, /The public key could not be read/);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
  });

  test('server without the keys is explained', async () => {
    // A web server that is not the exchange: 404 for the keys path, and an HTML page under /page.
    const server = http.createServer((request, response) => {
      if (request.url?.startsWith('/page/')) response.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>');
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const missing = await civic([exportFile, '--signature', signature, '--server', `${base}/nothing`]);
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /failed with status 404/);
      assert.doesNotMatch(missing.stderr, /\n\s+at /, 'no stack trace');
      const html = await civic([exportFile, '--signature', signature, '--server', `${base}/page`]);
      assert.equal(html.status, 1);
      assert.match(html.stderr, /did not return the signing keys as JSON/);
      assert.doesNotMatch(html.stderr, /\n\s+at /, 'no stack trace');
    } finally {
      server.close();
    }
  });

  test('help explains the key forms', async () => {
    const result = await civic(['--help']);
    assert.equal(result.status, 0);
    assert.match(result.stdout, /signing-keys/);
    assert.match(result.stdout, /offline/);
  });
});
