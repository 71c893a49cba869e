import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalDetails, entryHash, GENESIS_HASH, type ChainFields } from './chain.ts';
import { ChainVerifier, type ExpectedRoot } from './chain-verifier.ts';
import { binaryCopy, encodeCopyRow, type CopyRowValues } from './copy-binary.test-support.ts';
import { hashCopyRows, unpackBatch } from './hash-batch.ts';
import { verifyEntryCopy, type HashOptions } from './hash-pool.ts';
import { MerkleFrontier } from './merkle.ts';

/** The values of a chain of `count` entries, as the verifier's COPY query returns them. */
function chain(count: number): CopyRowValues[] {
  const rows: CopyRowValues[] = [];
  let previous: Buffer = GENESIS_HASH;
  for (let id = 1; id <= count; id += 1) {
    const fields: ChainFields = {
      occurredAt: `2026-12-04T10:00:${String(id % 60).padStart(2, '0')}.000000Z`,
      organisationId: id % 3 === 0 ? null : '6f1d2c3b-0000-4000-8000-000000000001',
      actorUserId: null,
      actorKind: 'system',
      action: 'test.event',
      subjectType: 'test',
      // Every seventh entry takes the string path.
      subjectId: id % 7 === 0 ? `é-${id}` : String(id),
      requestId: id % 2 === 0 ? `request-${id}` : null,
      details: { id, note: 'é ✓ "quoted"', list: [1, 2, id] },
    };
    const hash = entryHash(previous, fields);
    rows.push({ id, fields, prevHash: previous, entryHash: hash });
    previous = hash;
  }
  return rows;
}

/** Binary COPY output of `rows`, in streams of 250 rows as the embedded engine pages it. */
function copyOf(rows: readonly CopyRowValues[]): Buffer {
  return binaryCopy(rows.map(encodeCopyRow), 250);
}

/** Splits a buffer into chunks of uneven sizes, cutting rows and headers, as a socket would. */
async function* unevenChunks(bytes: Buffer): AsyncGenerator<Buffer> {
  const sizes = [1, 7, 333, 4096, 50, 1999];
  let offset = 0;
  for (let index = 0; offset < bytes.length; index += 1) {
    const size = sizes[index % sizes.length]!;
    yield bytes.subarray(offset, offset + size);
    offset += size;
  }
}

/** Checkpoint roots of the chain `rows` at `sizes`. */
function rootsAt(rows: readonly CopyRowValues[], sizes: readonly number[]): ExpectedRoot[] {
  const frontier = new MerkleFrontier();
  const roots: ExpectedRoot[] = [];
  for (const row of rows) {
    frontier.append(Buffer.from(row.entryHash));
    if (sizes.includes(frontier.size)) roots.push({ treeSize: frontier.size, rootHash: frontier.root(), label: `checkpoint ${frontier.size}` });
  }
  return roots;
}

/** Verifies `bytes` and returns the report with its hashes in hex, so reports compare with deepEqual. */
async function verifyCopy(bytes: Buffer, roots: ExpectedRoot[], options: HashOptions) {
  const verifier = new ChainVerifier({ fromId: 1, previousHash: GENESIS_HASH, expectedRoots: roots });
  await verifyEntryCopy(unevenChunks(bytes), verifier, options);
  const report = verifier.finish();
  return { ...report, lastHash: report.lastHash.toString('hex'), root: report.root?.toString('hex') ?? null };
}

/** A copy of `rows` with entry `id` (1-based) changed by `edit`, or removed when it returns null. */
function editRow(rows: readonly CopyRowValues[], id: number, edit: (row: CopyRowValues) => CopyRowValues | null): CopyRowValues[] {
  const edited = edit(rows[id - 1]!);
  const copy = [...rows];
  if (edited === null) copy.splice(id - 1, 1);
  else copy[id - 1] = edited;
  return copy;
}

/** Returns the row with its stored details text changed by `change`. */
function alterDetails(row: CopyRowValues, change: (text: string) => string): CopyRowValues {
  return { ...row, detailsText: change(canonicalDetails(row.fields.details)) };
}

describe('verifying on worker threads', () => {
  const rows = chain(700);
  const intact = copyOf(rows);
  const roots = rootsAt(rows, [1, 64, 100, 333, 512, 700]);
  const swapped = [...rows];
  [swapped[400], swapped[401]] = [swapped[401]!, swapped[400]!];
  const cases: [string, Buffer][] = [
    ['intact', intact],
    ['altered details', copyOf(editRow(rows, 350, (row) => alterDetails(row, (text) => text.replace('"id":350,', '"id":351,'))))],
    ['altered details of a string-path entry', copyOf(editRow(rows, 350, (row) => ({ ...row, fields: { ...row.fields, subjectId: 'é-altered' } })))],
    ['missing entry', copyOf(editRow(rows, 128, () => null))],
    ['swapped rows', copyOf(swapped)],
    ['rewritten stored hash', copyOf(editRow(rows, 200, (row) => ({ ...row, entryHash: Buffer.alloc(32, 7) })))],
    ['altered last entry', copyOf(editRow(rows, 700, (row) => alterDetails(row, (text) => text.replace('"id":700,', '"id":701,'))))],
  ];

  for (const [name, input] of cases) {
    it(`matches one thread: ${name}`, async () => {
      const single = await verifyCopy(input, roots, { threads: 0, batchBytes: 7000 });
      const threaded = await verifyCopy(input, roots, { threads: 3, batchBytes: 5000 });
      assert.deepEqual(threaded, single);
      assert.equal(single.rootsChecked + single.problems.filter((problem) => problem.kind === 'checkpoint').length > 0, true);
      if (name === 'intact') {
        assert.equal(single.problemCount, 0);
        assert.equal(single.checked, 700);
        assert.equal(single.rootsChecked, roots.length);
      } else {
        assert.ok(single.problemCount > 0, `${name} is found`);
      }
    });
  }

  it('finds a checkpoint that does not match', async () => {
    const wrong = roots.map((root) => (root.treeSize === 333 ? { ...root, rootHash: Buffer.alloc(32, 1) } : root));
    const threaded = await verifyCopy(intact, wrong, { threads: 2, batchBytes: 3000 });
    assert.deepEqual(threaded.problems.map((problem) => problem.message), ['checkpoint 333 does not match entries 1 to 333: its root hash differs']);
  });

  it('rejects an unreadable row', async () => {
    const short = Buffer.from([0, 1, 0, 0, 0, 1, 0x41]);
    const broken = binaryCopy([...rows.slice(0, 10).map(encodeCopyRow), short]);
    await assert.rejects(verifyCopy(broken, [], { threads: 2, batchBytes: 4000 }), /COPY row has 1 fields instead of 12/);
    await assert.rejects(verifyCopy(broken, [], { threads: 0 }), /COPY row has 1 fields instead of 12/);
  });

  it('rejects output that stops part-way through a row, or is not binary COPY', async () => {
    await assert.rejects(verifyCopy(intact.subarray(0, intact.length - 100), [], { threads: 0 }), /ended part-way through an entry/);
    await assert.rejects(verifyCopy(Buffer.from('1\t2026-12-04\n'.repeat(3)), [], { threads: 0 }), /COPY row|binary COPY/);
  });

  it('takes a regular batch whole', () => {
    const first64 = rows.slice(0, 64).map((row) => ({ ...row, fields: { ...row.fields, subjectId: String(row.id) } }));
    let previous: Buffer = GENESIS_HASH;
    const relinked = first64.map((row) => {
      const hash = entryHash(previous, row.fields);
      const linked = { ...row, prevHash: previous, entryHash: hash };
      previous = hash;
      return linked;
    });
    const packed = hashCopyRows(binaryCopy(relinked.map(encodeCopyRow)), []);
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
    assert.deepEqual(report.root, rootsAt(relinked, [64])[0]!.rootHash);
  });
});
