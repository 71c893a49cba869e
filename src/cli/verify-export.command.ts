import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { formatDigest, parseSignature, readPublicKey, verifyDigestSignature } from '../exchange/signing.ts';
import { UsageError, type Command } from './command.ts';

/**
 * Checks offline that a file is exactly what Civic Exchange released: the SHA-256 digest of the file's bytes, signed
 * with the exchange's Ed25519 key. Prints the digest and the key id and exits 0 when the signature matches, 1 when not.
 */
export const verifyExportCommand: Command = {
  name: 'verify-export',
  usage: 'civic verify-export FILE --signature SIG [--public-key KEY | --server URL]',
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
    if (values['public-key'] !== undefined) {
      const given = values['public-key'];
      keyText = fs.existsSync(given) ? fs.readFileSync(given, 'utf8') : given;
    } else {
      const url = `${values.server!.replace(/\/+$/, '')}/api/v1/exchange/signing-keys`;
      let response: Response;
      try {
        response = await fetch(url, { signal: AbortSignal.timeout(15_000) });
      } catch (error) {
        process.stderr.write(`civic verify-export: fetching the signing keys from ${url} failed (${(error as Error).message}). Check the URL, or pass the key with --public-key.\n`);
        return 1;
      }
      if (!response.ok) throw new Error(`Fetching the signing keys from ${url} failed with status ${response.status}.`);
      const published = (await response.json()) as { keys?: Array<{ kid?: string }> };
      const key = published.keys?.find((candidate) => candidate.kid === signature.keyId);
      if (!key) {
        process.stderr.write(`civic verify-export: ${url} publishes no key with the id ${signature.keyId}.\n`);
        return 1;
      }
      keyText = JSON.stringify(key);
    }

    const hash = createHash('sha256');
    for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
    const digest = formatDigest(hash.digest());
    const valid = verifyDigestSignature(digest, signature.signature, readPublicKey(keyText));
    process.stdout.write(`File: ${file}\nContent-Digest: ${digest}\nKey id: ${signature.keyId}\n`);
    if (!valid) {
      process.stdout.write('Signature: INVALID. The file differs from what the exchange signed, or the key is not the signer\'s.\n');
      return 1;
    }
    process.stdout.write('Signature: valid. The exchange released exactly these bytes.\n');
    return 0;
  },
};
