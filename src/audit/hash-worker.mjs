// Starts a hash worker thread: a worker does not inherit the TypeScript loader of the thread that made it.
import { register } from 'tsx/esm/api';

register();
await import('./hash-worker.ts');
