import { parentPort } from 'node:worker_threads';
import { hashCopyLines } from './hash-batch.ts';

/** A worker thread of `HashPool`: hashes each batch it is sent and answers with the packed results, in order. */
const port = parentPort;
if (port === null) throw new Error('hash-worker.ts runs only as a worker thread.');

port.on('message', (message: { sequence: number; bytes: Uint8Array }) => {
  try {
    const batch = hashCopyLines(message.bytes);
    port.postMessage({ sequence: message.sequence, batch }, [batch.ids.buffer, batch.hashes.buffer]);
  } catch (error) {
    port.postMessage({ sequence: message.sequence, error: (error as Error).message });
  }
});
