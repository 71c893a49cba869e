import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalDetails, entryHash, GENESIS_HASH, type ChainFields } from './chain.ts';
import type { HashedEntry } from './chain-verifier.ts';
import { hashEntries } from './hash-pool.ts';

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

async function collect(entries: AsyncIterable<HashedEntry>): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of entries) {
    out.push([entry.id, entry.prevHash.toString('hex'), entry.entryHash.toString('hex'), entry.computedHash.toString('hex'), entry.leaf.toString('hex')].join(' '));
  }
  return out;
}

describe('hashing entries on worker threads', () => {
  const text = copyText(700);

  it('matches single-thread hashing in order', async () => {
    const single = await collect(hashEntries(unevenChunks(text), { threads: 0 }));
    assert.equal(single.length, 700);
    assert.ok(single.every((line) => line.split(' ')[2] === line.split(' ')[3]), 'every stored hash matches its fields');
    const threaded = await collect(hashEntries(unevenChunks(text), { threads: 3, batchBytes: 5000 }));
    assert.deepEqual(threaded, single);
  });

  it('finds the one altered entry', async () => {
    const altered = Buffer.from(text.toString('utf8').replace('"id":350,', '"id":351,'), 'utf8');
    const threaded = await collect(hashEntries(unevenChunks(altered), { threads: 2, batchBytes: 3000 }));
    const mismatched = threaded.filter((line) => line.split(' ')[2] !== line.split(' ')[3]).map((line) => Number(line.split(' ')[0]));
    assert.deepEqual(mismatched, [350]);
  });

  it('rejects an unreadable line', async () => {
    const broken = Buffer.concat([text, Buffer.from('not a copy line\n')]);
    await assert.rejects(collect(hashEntries(unevenChunks(broken), { threads: 2, batchBytes: 4000 })), /COPY line has 1 fields instead of 12/);
  });
});
