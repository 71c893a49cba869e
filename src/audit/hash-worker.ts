import { parentPort, workerData } from 'node:worker_threads';
import { hashCopyRows } from './hash-batch.ts';

/** A worker thread of `HashPool`: hashes each batch it is sent and posts back the packed results, in order. */
const port = parentPort;
if (port === null) throw new Error('hash-worker.ts runs only as a worker thread.');
const { checkpointSizes } = workerData as { checkpointSizes: number[] };

port.on('message', (message: { sequence: number; bytes: Uint8Array }) => {
  try {
    const batch = hashCopyRows(message.bytes, checkpointSizes);
    const transfer: ArrayBuffer[] = [batch.ids.buffer, batch.hashes.buffer];
    if (batch.run !== null) transfer.push(batch.run.lastHash.buffer, batch.run.heights.buffer, batch.run.roots.buffer);
    port.postMessage({ sequence: message.sequence, batch }, transfer);
  } catch (error) {
    port.postMessage({ sequence: message.sequence, error: (error as Error).message });
  }
});
