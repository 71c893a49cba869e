/**
 * A bounded queue of COPY chunks between a producer that awaits `push` and a consumer that iterates. `push` waits while
 * the queued chunks exceed `maxChars` characters (or bytes, for binary chunks), so memory stays flat whichever side is
 * slower.
 */
export class ChunkQueue implements AsyncIterable<string | Buffer> {
  private chunks: Array<string | Buffer> = [];
  private queuedChars = 0;
  private ended = false;
  private failure: { error: unknown } | null = null;
  private closed = false;
  private wakeConsumer: (() => void) | null = null;
  private wakeProducer: (() => void) | null = null;

  constructor(private readonly maxChars: number) {}

  /** Adds a chunk and resolves once the queue has room again, or at once when the consumer has stopped. */
  async push(chunk: string | Buffer): Promise<void> {
    if (this.closed || this.ended) return;
    this.chunks.push(chunk);
    this.queuedChars += chunk.length;
    this.wake('consumer');
    while (this.queuedChars > this.maxChars && !this.closed) {
      await new Promise<void>((resolve) => (this.wakeProducer = resolve));
    }
  }

  /** Ends the input; the consumer reads what is queued and then stops. */
  end(): void {
    this.ended = true;
    this.wake('consumer');
  }

  /** Makes the consumer's next read throw `error`, dropping what is queued. */
  fail(error: unknown): void {
    this.failure = { error };
    this.ended = true;
    this.closed = true;
    this.chunks = [];
    this.queuedChars = 0;
    this.wake('consumer');
    this.wake('producer');
  }

  /** Called when the consumer stops early: a waiting or later `push` returns at once and its chunk is dropped. */
  close(): void {
    this.closed = true;
    this.chunks = [];
    this.queuedChars = 0;
    this.wake('producer');
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<string | Buffer> {
    for (;;) {
      if (this.failure) throw this.failure.error;
      const chunk = this.chunks.shift();
      if (chunk !== undefined) {
        this.queuedChars -= chunk.length;
        this.wake('producer');
        yield chunk;
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => (this.wakeConsumer = resolve));
    }
  }

  private wake(side: 'consumer' | 'producer'): void {
    const resolve = side === 'consumer' ? this.wakeConsumer : this.wakeProducer;
    if (side === 'consumer') this.wakeConsumer = null;
    else this.wakeProducer = null;
    resolve?.();
  }
}
