/** Milliseconds spent in each named phase of an import, for the `import committed` log line and the benchmark. */
export class PhaseTimer {
  readonly phases: Record<string, number> = {};

  /** Records a phase that began at `startedAt` (a `performance.now()` reading) and ends now. */
  record(phase: string, startedAt: number): void {
    this.phases[phase] = Math.round(performance.now() - startedAt);
  }

  /** Runs `work` and records how long it took, whether it succeeds or fails. */
  async time<T>(phase: string, work: () => Promise<T>): Promise<T> {
    const startedAt = performance.now();
    try {
      return await work();
    } finally {
      this.record(phase, startedAt);
    }
  }
}
