/** The progress output of `civic import`, written on standard error only when it is a terminal. */
import cliProgress from 'cli-progress';
import type { ImportProgress } from '../catalogue/import.types.ts';

export interface ProgressReporter {
  onProgress?: (progress: ImportProgress) => void;
  stop(): void;
}

const PHASE_LABELS: Record<ImportProgress['phase'], string> = { analyse: 'Analysing', load: 'Loading  ' };

function megabytes(bytes: number): string {
  return (bytes / 1_048_576).toFixed(1);
}

/**
 * Draws one bar for each read of the file, each counting up to the file's size. A large file is often loaded while it
 * is analysed, and then the second bar fills at once instead of holding one shared bar at half way.
 */
export function progressReporter(totalBytes: number, stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  if (!stream.isTTY || totalBytes === 0) return { stop() {} };

  const startBar = (phase: ImportProgress['phase']): cliProgress.SingleBar => {
    const format = `${PHASE_LABELS[phase]} [{bar}] {percentage}% | {megabytes} of ${megabytes(totalBytes)} MB read | {eta_formatted} left`;
    const bar = new cliProgress.SingleBar({ stream, format, hideCursor: true }, cliProgress.Presets.shades_classic);
    bar.start(totalBytes, 0, { megabytes: megabytes(0) });
    return bar;
  };

  let phase: ImportProgress['phase'] = 'analyse';
  let bar = startBar(phase);
  return {
    onProgress(progress) {
      if (progress.phase !== phase) {
        // The analysis has read the whole file once the load starts, even when its last report came earlier.
        bar.update(totalBytes, { megabytes: megabytes(totalBytes) });
        bar.stop();
        phase = progress.phase;
        bar = startBar(phase);
      }
      const done = Math.min(progress.bytesRead, totalBytes);
      bar.update(done, { megabytes: megabytes(done) });
    },
    stop: () => bar.stop(),
  };
}

/**
 * Writes one line saying that the file is being sent, because the upload API replies only once the server has loaded
 * the file, which takes a while for a large one. Like the bars, it is written only to a terminal.
 */
export function announceUpload(filename: string, totalBytes: number, server: string, stream: NodeJS.WriteStream = process.stderr): void {
  if (!stream.isTTY) return;
  stream.write(`Sending ${filename} (${megabytes(totalBytes)} MB) to ${server}. The server replies once it has loaded the file...\n`);
}
