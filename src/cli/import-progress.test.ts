import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { announceUpload, progressReporter } from './import-progress.ts';

const MEGABYTE = 1_048_576;

/** Creates a stream that passes for a terminal and records what is drawn on it, without the escape codes. */
function fakeTerminal(): { stream: NodeJS.WriteStream; text: () => string } {
  const stream = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  const text = () => chunks.join('').replace(/\x1B(?:\[[0-9;?]*[A-Za-z]|[78])/g, '');
  return { stream: stream as unknown as NodeJS.WriteStream, text };
}

describe('import progress bars', () => {
  it('counts each read to the file size', () => {
    const terminal = fakeTerminal();
    const reporter = progressReporter(2 * MEGABYTE, terminal.stream);
    reporter.onProgress!({ phase: 'analyse', bytesRead: MEGABYTE, totalBytes: 2 * MEGABYTE });
    reporter.onProgress!({ phase: 'load', bytesRead: 2 * MEGABYTE, totalBytes: 2 * MEGABYTE });
    reporter.stop();

    const output = terminal.text();
    assert.match(output, /Analysing \[[^\]]+\] 100% \| 2\.0 of 2\.0 MB read/);
    assert.match(output, /Loading +\[[^\]]+\] 100% \| 2\.0 of 2\.0 MB read/);
    assert.doesNotMatch(output, /4\.0 MB/);
  });

  it('draws nothing off a terminal', () => {
    const terminal = fakeTerminal();
    Object.assign(terminal.stream, { isTTY: false });
    const reporter = progressReporter(MEGABYTE, terminal.stream);
    assert.equal(reporter.onProgress, undefined);
    reporter.stop();
    assert.equal(terminal.text(), '');
  });

  it('announces an upload on a terminal', () => {
    const terminal = fakeTerminal();
    announceUpload('spend.csv', 3 * MEGABYTE, 'http://127.0.0.1:3000', terminal.stream);
    assert.equal(terminal.text(), 'Sending spend.csv (3.0 MB) to http://127.0.0.1:3000. The server replies once it has loaded the file...\n');

    const pipe = fakeTerminal();
    Object.assign(pipe.stream, { isTTY: false });
    announceUpload('spend.csv', 3 * MEGABYTE, 'http://127.0.0.1:3000', pipe.stream);
    assert.equal(pipe.text(), '');
  });
});
