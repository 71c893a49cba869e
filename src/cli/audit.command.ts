import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { runProve, runVerify, exportLog } from '../audit/audit-cli.ts';
import type { InclusionProof } from '../audit/checkpoint.service.ts';
import { CheckpointSigner } from '../audit/checkpoint-signer.ts';
import { loadConfig } from '../config.ts';
import { loadKeyRing } from '../keys/key-ring.ts';
import { UsageError, type Command } from './command.ts';
import { openDatabase, openServices } from './runtime.ts';

const USAGE = `civic audit verify [--from N] [--to M] [--checkpoint FILE] [--file EXPORT.jsonl] [--public-key BASE64]
       civic audit checkpoint
       civic audit prove ID [--checkpoint SIZE] [--url BASE_URL] [--public-key BASE64]
       civic audit export --out FILE.jsonl [--from N] [--to M]`;

const HELP = `Actions:
  verify      Recompute every entry's hash and link, and check the Merkle root against each signed checkpoint.
              Exits 0 when the log is intact and 1 naming each altered, missing or reordered entry.
  checkpoint  Sign the current Merkle root of the log and store it as a checkpoint.
  prove       Show that entry ID is in a signed checkpoint, with the audit path, and check it.
  export      Write entries as JSON Lines, one entry a line, to check later with verify --file.

Options:
  --from N, --to M       The first and last entry id to check or export (entry ids start at 1).
  --checkpoint FILE      verify: also check a checkpoint saved from /api/v1/audit/checkpoints.
  --checkpoint SIZE      prove: the tree size of the checkpoint to prove against (the latest when absent).
  --file EXPORT.jsonl    verify: check an export file, with no database.
  --public-key BASE64    The key checkpoints must be signed with, as /api/v1/audit/checkpoints publishes it;
                         the key derived from this installation's master key when absent.
  --url BASE_URL         prove: fetch the proof from a running server.
  --out FILE.jsonl       export: the file to write; it must not exist yet.`;

const out = (line: string) => process.stdout.write(`${line}\n`);

function entryNumber(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) throw new UsageError(`${option} is "${value}"; give an entry id, a whole number from 1.`);
  return number;
}

/** The key that checkpoints must be signed with: --public-key when given, otherwise the one derived from the master key. */
function trustedKey(publicKey: string | undefined): Buffer {
  if (publicKey !== undefined) {
    const raw = Buffer.from(publicKey, 'base64');
    if (raw.length !== 32) throw new UsageError(`--public-key must be the base64 of 32 bytes, as /api/v1/audit/checkpoints publishes it; it decodes to ${raw.length} bytes.`);
    return raw;
  }
  const config = loadConfig();
  return new CheckpointSigner(loadKeyRing(config.masterKey, config.dataDir)).publicKey;
}

async function verify(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { from: { type: 'string' }, to: { type: 'string' }, checkpoint: { type: 'string' }, file: { type: 'string' }, 'public-key': { type: 'string' } },
  });
  const fromId = entryNumber(values.from, '--from');
  const toId = entryNumber(values.to, '--to');
  if (fromId !== undefined && toId !== undefined && toId < fromId) throw new UsageError(`--to ${toId} comes before --from ${fromId}.`);
  const options = { fromId, toId, checkpointFile: values.checkpoint, exportFile: values.file, publicKey: trustedKey(values['public-key']) };
  if (values.file !== undefined) return runVerify(null, options, out);
  const db = await openDatabase();
  try {
    return await runVerify(db, options, out);
  } finally {
    await db.close();
  }
}

async function checkpoint(argv: string[]): Promise<number> {
  parseArgs({ args: argv, options: {} });
  const services = await openServices();
  try {
    const result = await services.audit.checkpoints.createCheckpoint();
    if (result.checkpoint === null) {
      out('The audit log is empty, so there is nothing to sign.');
      return 0;
    }
    out(JSON.stringify(result.checkpoint, null, 2));
    process.stderr.write(result.created ? 'Signed a new checkpoint.\n' : 'The log has not grown since this checkpoint.\n');
    return 0;
  } finally {
    await services.db.close();
  }
}

async function fetchProof(baseUrl: string, entryId: number, treeSize: number | undefined): Promise<InclusionProof> {
  const url = new URL(`/api/v1/audit/entries/${entryId}/proof`, baseUrl);
  if (treeSize !== undefined) url.searchParams.set('checkpoint', String(treeSize));
  const response = await fetch(url);
  const body = (await response.json()) as InclusionProof & { error?: { message?: string } };
  if (!response.ok) throw new UsageError(`${url} returned ${response.status}: ${body.error?.message ?? 'no message'}`);
  return body;
}

async function prove(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { checkpoint: { type: 'string' }, url: { type: 'string' }, 'public-key': { type: 'string' } },
  });
  const entryId = entryNumber(positionals[0], 'ID');
  if (entryId === undefined) throw new UsageError('Give the id of the entry to prove.');
  const treeSize = entryNumber(values.checkpoint, '--checkpoint');
  const publicKey = trustedKey(values['public-key']);
  const proof = values.url === undefined ? undefined : await fetchProof(values.url, entryId, treeSize);
  const services = await openServices();
  try {
    return await runProve(services.db, services.audit.checkpoints, entryId, { treeSize, proof, publicKey }, out);
  } finally {
    await services.db.close();
  }
}

async function exportEntries(argv: string[]): Promise<number> {
  const { values } = parseArgs({ args: argv, options: { out: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } } });
  if (values.out === undefined) throw new UsageError('Give the file to write with --out.');
  if (fs.existsSync(values.out)) throw new UsageError(`${values.out} already exists; choose a new file name.`);
  const fromId = entryNumber(values.from, '--from') ?? 1;
  const toId = entryNumber(values.to, '--to');
  if (toId !== undefined && toId < fromId) throw new UsageError(`--to ${toId} comes before --from ${fromId}.`);
  const services = await openServices();
  try {
    const count = await exportLog(services.db, values.out, { fromId, toId });
    out(`Wrote ${count} entries to ${values.out}.`);
    return 0;
  } finally {
    await services.db.close();
  }
}

export const auditCommand: Command = {
  name: 'audit',
  usage: USAGE,
  help: HELP,
  async run(argv) {
    const [action, ...rest] = argv;
    switch (action) {
      case 'verify':
        return verify(rest);
      case 'checkpoint':
        return checkpoint(rest);
      case 'prove':
        return prove(rest);
      case 'export':
        return exportEntries(rest);
      default:
        throw new UsageError(action === undefined ? 'Give an action: verify, checkpoint, prove or export.' : `Unknown action "${action}"; use verify, checkpoint, prove or export.`);
    }
  },
};
