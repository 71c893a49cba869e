import fs from 'node:fs';
import path from 'node:path';

export class FolderLockedError extends Error {
  override name = 'FolderLockedError';
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the embedded database folder for this process. PGlite must not be opened by two processes at once, so a second
 * process gets FolderLockedError naming the folder and the holder. A lock left by a process that has died is taken over.
 * Returns a function that gives the folder up.
 */
export function lockDataFolder(dataDir: string): () => void {
  fs.mkdirSync(dataDir, { recursive: true });
  const lockPath = path.join(dataDir, 'civic.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      fs.writeFileSync(lockPath, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(lockPath, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = Number(fs.readFileSync(lockPath, 'utf8').trim());
      if (Number.isInteger(holder) && holder !== process.pid && processIsAlive(holder)) {
        throw new FolderLockedError(
          `The embedded database in ${dataDir} is in use by another process (pid ${holder}). ` +
            'Stop the server that holds it and run the command again. For civic import, you can instead send the file to the running server with --server URL --token TOKEN.',
        );
      }
      fs.rmSync(lockPath, { force: true });
    }
  }
  throw new FolderLockedError(`Could not take the lock file ${lockPath}. Remove it if no Civic Exchange process is running.`);
}
