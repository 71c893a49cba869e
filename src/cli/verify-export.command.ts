import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { formatDigest, parseSignature, PublicKeyError, readPublicKey, verifyDigestSignature } from '../exchange/signing.ts';
import { UsageError, type Command } from './command.ts';

/**
 * Checks offline that a file is exactly what Civic Exchange released: the SHA-256 digest of the file's bytes, signed
 * with the exchange's Ed25519 key. Prints the digest and the key id and exits 0 when the signature matches, 1 when not.
 */
export const verifyExportCommand: Command = {
  name: 'verify-export',
  usage: 'civic verify-export FILE --signature SIG [--public-key KEY | --server URL]',
  help: [
    'FILE              the file as received, byte for byte (an export, or the body of a records or changes reply)',
    'SIG               the Civic-Signature value: keyid="…", alg="ed25519", sig=:…:',
    '--public-key KEY  a file or text holding the key: the JSON of /api/v1/exchange/signing-keys (the key whose id',
    '                  SIG names is used), one key from it, a PEM public key, or the 32 key bytes in base64.',
    '                  Needs no network, so the check works offline.',
    '--server URL      the exchange to fetch the published keys from, such as https://data.example.gov.uk',
    '',
    'Exit status: 0 when the signature is valid, 1 when it is not or the key is not found, 2 for wrong arguments.',
  ].join('\n'),
  async run(argv) {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { signature: { type: 'string' }, 'public-key': { type: 'string' }, server: { type: 'string' } },
    });
    const [file] = positionals;
    if (!file || positionals.length !== 1) throw new UsageError('Give exactly one FILE to check.');
    if (!values.signature) throw new UsageError('Give the Civic-Signature value with --signature (the header, trailer or the export record\'s "signature").');
    if (values['public-key'] !== undefined && values.server !== undefined) throw new UsageError('Give either --public-key or --server, not both.');
    if (values['public-key'] === undefined && values.server === undefined) throw new UsageError('Give the public key with --public-key KEY, or the server to fetch it from with --server URL.');
    if (!fs.existsSync(file)) throw new UsageError(`The file ${file} does not exist.`);

    const signature = parseSignature(values.signature);
    if (!signature) throw new UsageError('The signature is not a Civic-Signature value of the form keyid="…", alg="ed25519", sig=:…:');

    let keyText: string;
    let keyFile: string | null = null;
    if (values['public-key'] !== undefined) {
      const given = values['public-key'];
      keyFile = fs.existsSync(given) ? given : null;
      keyText = keyFile === null ? given : fs.readFileSync(keyFile, 'utf8');
    } else {
      const published = await fetchPublishedKey(values.server!, signature.keyId);
      if (published === null) return 1;
      keyText = published;
    }

    const hash = createHash('sha256');
    for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
    const digest = formatDigest(hash.digest());
    let publicKey;
    try {
      publicKey = readPublicKey(keyText, signature.keyId);
    } catch (error) {
      if (!(error instanceof PublicKeyError)) throw error;
      if (!error.keyNotInSet) {
        // A value that is neither a file nor a key is most often a mistyped path.
        const inline = values['public-key'] !== undefined && keyFile === null && !/^\s*(\{|-----BEGIN)/.test(keyText);
        throw new UsageError(inline ? `No file ${keyText} exists, and the value is not a key either. Give the path of the saved signing keys, or the key itself.` : error.message);
      }
      process.stderr.write(`civic verify-export: ${error.message}\n`);
      return 1;
    }
    const valid = verifyDigestSignature(digest, signature.signature, publicKey);
    process.stdout.write(`File: ${file}\nContent-Digest: ${digest}\nKey id: ${signature.keyId}\n`);
    if (!valid) {
      process.stdout.write('Signature: INVALID. The file differs from what the exchange signed, or the key is not the signer\'s.\n');
      return 1;
    }
    process.stdout.write('Signature: valid. The exchange released exactly these bytes.\n');
    return 0;
  },
};

/** Fetches the published key whose id is `keyId` as JWK text, or writes the reason to stderr and returns null. */
async function fetchPublishedKey(server: string, keyId: string): Promise<string | null> {
  const url = `${server.replace(/\/+$/, '')}/api/v1/exchange/signing-keys`;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  } catch (error) {
    process.stderr.write(`civic verify-export: fetching the signing keys from ${url} failed (${(error as Error).message}). Check the URL, or pass the key with --public-key.\n`);
    return null;
  }
  if (!response.ok) {
    process.stderr.write(`civic verify-export: fetching the signing keys from ${url} failed with status ${response.status}. Check that --server is the exchange's base URL, or pass the key with --public-key.\n`);
    return null;
  }
  let published: { keys?: unknown } | null;
  try {
    published = (await response.json()) as typeof published;
  } catch {
    process.stderr.write(`civic verify-export: ${url} did not return the signing keys as JSON. Check that --server is the exchange's base URL, or pass the key with --public-key.\n`);
    return null;
  }
  const keys = Array.isArray(published?.keys) ? (published.keys as Array<{ kid?: string }>) : [];
  const key = keys.find((candidate) => candidate?.kid === keyId);
  if (!key) {
    process.stderr.write(`civic verify-export: ${url} publishes no key with the id ${keyId}. Check that the signature came from this server, or pass the key with --public-key.\n`);
    return null;
  }
  return JSON.stringify(key);
}
