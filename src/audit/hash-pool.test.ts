import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalDetails, entryHash, GENESIS_HASH, type ChainFields } from './chain.ts';
import { ChainVerifier, type ExpectedRoot } from './chain-verifier.ts';
import { hashCopyLines, unpackBatch } from './hash-batch.ts';
import { verifyEntryText, type HashOptions } from './hash-pool.ts';
import { MerkleFrontier } from './merkle.ts';

/** COPY text lines of a chain of `count` entries, as `readEntryText` streams them. */
function copyText(count: number): Buffer {
  const lines: string[] = [];
  let previous: Buffer = GENESIS_HASH;
  for (let id = 1; id <= count; id += 1) {
    const fields: ChainFields = {
      occurredAt: `2026-12-04T10:00:${String(id % 60).padStart(2, '0')}.000000Z`,
      organisationId: id % 3 === 0 ? null : '6f1d2c3b-0000-4000-8000-000000000001',
      actorUserId: null,
      actorKind: 'system',
      action: 'test.event',
      subjectType: 'test',
      subjectId: String(id),
      requestId: id % 2 === 0 ? `request-${id}` : null,
      details: { id, note: 'é ✓ "quoted"', list: [1, 2, id] },
    };
    const hash = entryHash(previous, fields);
    const nullable = (value: string | null) => value ?? '\\N';
    const details = canonicalDetails(fields.details).replaceAll('\\', '\\\\');
    lines.push([id, fields.occurredAt, nullable(fields.organisationId), '\\N', fields.actorKind, fields.action, fields.subjectType, nullable(fields.subjectId), nullable(fields.requestId), details, previous.toString('hex'), hash.toString('hex')].join('\t'));
    previous = hash;
  }
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

/** Splits a buffer into chunks of uneven sizes, cutting lines and multi-byte characters, as a socket would. */
async function* unevenChunks(text: Buffer): AsyncGenerator<Buffer> {
  const sizes = [1, 7, 333, 4096, 50, 1999];
  let offset = 0;
  for (let index = 0; offset < text.length; index += 1) {
    const size = sizes[index % sizes.length]!;
    yield text.subarray(offset, offset + size);
    offset += size;
  }
}

/** Leaves of the chain in `text`, for checkpoint roots. */
function rootsAt(text: Buffer, sizes: readonly number[]): ExpectedRoot[] {
  const frontier = new MerkleFrontier();
  const roots: ExpectedRoot[] = [];
  for (const line of text.toString('utf8').trimEnd().split('\n')) {
    frontier.append(Buffer.from(line.split('\t')[11]!, 'hex'));
    if (sizes.includes(frontier.size)) roots.push({ treeSize: frontier.size, rootHash: frontier.root(), label: `checkpoint ${frontier.size}` });
  }
  return roots;
}

/** Verifies `text` and returns the report with its hashes in hex, so reports compare with deepEqual. */
async function verifyText(text: Buffer, roots: ExpectedRoot[], options: HashOptions) {
  const verifier = new ChainVerifier({ fromId: 1, previousHash: GENESIS_HASH, expectedRoots: roots });
  await verifyEntryText(unevenChunks(text), verifier, options);
  const report = verifier.finish();
  return { ...report, lastHash: report.lastHash.toString('hex'), root: report.root?.toString('hex') ?? null };
}

/** Rewrites line `id` (1-based) of a COPY text with `edit`. */
function editLine(text: Buffer, id: number, edit: (line: string) => string | null): Buffer {
  const lines = text.toString('utf8').trimEnd().split('\n');
  const edited = edit(lines[id - 1]!);
  if (edited === null) lines.splice(id - 1, 1);
  else lines[id - 1] = edited;
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

describe('verifying on worker threads', () => {
  const text = copyText(700);
  const roots = rootsAt(text, [1, 64, 100, 333, 512, 700]);
  const swapped = (() => {
    const lines = text.toString('utf8').trimEnd().split('\n');
    [lines[400], lines[401]] = [lines[401]!, lines[400]!];
    return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
  })();
  const cases: [string, Buffer][] = [
    ['intact', text],
    ['altered details', editLine(text, 350, (line) => line.replace('"id":350,', '"id":351,'))],
    ['missing entry', editLine(text, 128, () => null)],
    ['swapped lines', swapped],
    ['altered last entry', editLine(text, 700, (line) => line.replace('"id":700,', '"id":701,'))],
  ];

  for (const [name, input] of cases) {
    it(`matches one thread: ${name}`, async () => {
      const single = await verifyText(input, roots, { threads: 0 });
      const threaded = await verifyText(input, roots, { threads: 3, batchBytes: 5000 });
      assert.deepEqual(threaded, single);
      assert.equal(single.rootsChecked + single.problems.filter((problem) => problem.kind === 'checkpoint').length > 0, true);
      if (name === 'intact') {
        assert.equal(single.problemCount, 0);
        assert.equal(single.rootsChecked, roots.length);
      } else {
        assert.ok(single.problemCount > 0, `${name} is found`);
      }
    });
  }

  it('finds a checkpoint that does not match', async () => {
    const wrong = roots.map((root) => (root.treeSize === 333 ? { ...root, rootHash: Buffer.alloc(32, 1) } : root));
    const threaded = await verifyText(text, wrong, { threads: 2, batchBytes: 3000 });
    assert.deepEqual(threaded.problems.map((problem) => problem.message), ['checkpoint 333 does not match entries 1 to 333: its root hash differs']);
  });

  it('rejects an unreadable line', async () => {
    const broken = Buffer.concat([text, Buffer.from('not a copy line\n')]);
    await assert.rejects(verifyText(broken, [], { threads: 2, batchBytes: 4000 }), /COPY line has 1 fields instead of 12/);
  });

  it('takes a regular batch whole', () => {
    const lines = text.toString('utf8').trimEnd().split('\n').slice(0, 64).join('\n');
    const packed = hashCopyLines(Buffer.from(`${lines}\n`), []);
    assert.notEqual(packed.run, null);
    assert.deepEqual(Array.from(packed.run!.heights), [6]);
    const verifier = new ChainVerifier({ fromId: 1, previousHash: GENESIS_HASH });
    const first = unpackBatch(packed)[0]!;
    verifier.pushBatch({
      first,
      lastId: 64,
      count: 64,
      run: { lastHash: Buffer.from(packed.run!.lastHash), subtrees: [{ height: 6, root: Buffer.from(packed.run!.roots) }] },
      entries: () => assert.fail('a regular batch that continues the chain is not unpacked'),
    });
    const report = verifier.finish();
    assert.equal(report.checked, 64);
    assert.equal(report.problemCount, 0);
    assert.deepEqual(report.root, rootsAt(text, [64])[0]!.rootHash);
  });
});
