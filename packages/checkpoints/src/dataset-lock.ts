// One writer per dataset folder. Two processes (or two writers in one process) writing
// the same folder would each regenerate the other's missing runs, delete the other's
// half-written temporary files, or leave one task's manifest beside another task's runs.
// So every writer (DatasetWriter, generateDataset here and in @gpt/g-pt,
// convertOfficialDataset) holds `<dir>/.gpt-data.lock`, created exclusively (O_EXCL) with
// its pid, host, start time and command. A lock whose process is gone (kill -9, a crash,
// a power loss) is stale: on the same host the next writer sees the pid is dead and takes
// the lock over; from another host (a shared file system) it cannot tell and refuses,
// saying which file to delete.
import { randomBytes } from 'node:crypto';
import { constants, readFileSync, unlinkSync } from 'node:fs';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { DatasetLockedError, type LockOwner } from './errors.js';

export const LOCK_FILE = '.gpt-data.lock';
/** A lock file is a line of JSON; anything longer is not one of ours. */
const MAX_LOCK_BYTES = 64 * 1024;

export interface DatasetLock {
  /** The locked folder, as given. */
  readonly dir: string;
  readonly file: string;
  readonly owner: LockOwner;
  /** Removes the lock file (only if it is still ours). Idempotent. */
  release(): Promise<void>;
}

/** Whether a process with this pid exists on this host (EPERM: it exists, owned by someone else). */
export function processAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false; // kill(0) and kill(-n) address process groups
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function parseOwner(text: string): LockOwner | null {
  try {
    const owner = JSON.parse(text) as Partial<LockOwner> | null;
    if (owner === null || typeof owner !== 'object') return null;
    return Number.isSafeInteger(owner.pid) && typeof owner.host === 'string' ? (owner as LockOwner) : null;
  } catch {
    return null; // being written right now, or garbage
  }
}

// Non-blocking, and only a regular file is read: a FIFO or folder in the lock's place is
// an unreadable lock (refused, naming the file to delete), never a hang.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

async function readOwner(file: string): Promise<LockOwner | null | 'gone'> {
  let text: string;
  try {
    const handle = await open(file, READ_FLAGS);
    try {
      if (!(await handle.stat()).isFile()) return null;
      const buffer = new Uint8Array(MAX_LOCK_BYTES);
      const { bytesRead } = await handle.read(buffer, 0, MAX_LOCK_BYTES, 0);
      text = new TextDecoder().decode(buffer.subarray(0, bytesRead));
    } finally {
      await handle.close();
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    if ((error as NodeJS.ErrnoException).code === 'EISDIR') return null;
    throw error;
  }
  return parseOwner(text);
}

function describe(owner: LockOwner): string {
  return `process ${owner.pid} on host ${owner.host}, since ${owner.startedAt} (${owner.command})`;
}

// Locks held by this process, removed if it exits without releasing them (process.exit,
// an uncaught error), so that the next run does not have to take over a stale lock.
const held = new Map<string, LockOwner>();
let exitHookInstalled = false;
function removeHeldLocksOnExit(): void {
  for (const [file, owner] of held) {
    try {
      const current = parseOwner(readFileSync(file, 'utf8'));
      if (current?.token === owner.token) unlinkSync(file);
    } catch {
      // gone already, or unreadable: nothing of ours to remove
    }
  }
}

export interface AcquireLockOptions {
  /** What the holder is doing, shown to a refused writer. Default: this process's command line. */
  command?: string;
}

/**
 * Takes the writer lock on `dir` (which must exist) or throws DatasetLockedError naming
 * the holder (pid, host, start time, command). A stale lock of a dead process on this
 * host is taken over.
 */
export async function acquireDatasetLock(dir: string, options: AcquireLockOptions | string = {}): Promise<DatasetLock> {
  const command = typeof options === 'string' ? options : (options.command ?? process.argv.slice(1).join(' '));
  const file = join(dir, LOCK_FILE);
  const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), command, token: randomBytes(8).toString('hex') };
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      const handle = await open(file, 'wx');
      try {
        await handle.writeFile(`${JSON.stringify(me)}\n`);
      } finally {
        await handle.close();
      }
      held.set(file, me);
      if (!exitHookInstalled) {
        exitHookInstalled = true;
        process.on('exit', removeHeldLocksOnExit);
      }
      let released = false;
      return {
        dir,
        file,
        owner: me,
        release: async () => {
          if (released) return;
          released = true;
          if (held.get(file)?.token === me.token) held.delete(file);
          await releaseLock(file, me);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const owner = await readOwner(file);
    if (owner === 'gone') continue; // released meanwhile: try again
    if (owner === null) {
      // Unreadable: a lock being written this instant, or a damaged file; give the writer a moment.
      if (attempt < 4) {
        await new Promise((done) => setTimeout(done, 50));
        continue;
      }
      throw new DatasetLockedError(file, null, `${dir} is locked by ${file}, which cannot be read; if no other writer is running on this folder, delete that file and run again`);
    }
    if (owner.host !== me.host) {
      throw new DatasetLockedError(
        file,
        owner,
        `${dir} is locked by another writer: ${describe(owner)}; its liveness cannot be checked from ${me.host}: if that process is gone, delete ${file} and run again`,
      );
    }
    if (processAlive(owner.pid)) {
      const who = owner.pid === process.pid ? `another writer in this process (${describe(owner)})` : `another writer: ${describe(owner)}`;
      throw new DatasetLockedError(file, owner, `${dir} is locked by ${who}; wait for it to finish or stop it, then run again to resume`);
    }
    await removeStaleLock(file, owner);
  }
  throw new DatasetLockedError(file, null, `${dir}: could not take the lock ${file} (other writers keep taking it)`);
}

/** Whether `lock` is a lock on `dir`. */
export function lockCovers(lock: DatasetLock, dir: string): boolean {
  return resolve(lock.dir) === resolve(dir);
}

/** A takeover guard older than this was left by a writer that died while taking over. */
const GUARD_ABANDONED_MS = 10_000;

/**
 * Removes the stale lock `seen`, and only it. Several writers may find the same stale lock,
 * and a plain unlink by a slower one could delete the fresh lock a faster one has just
 * created. So deleting a stale lock is guarded: only the writer that creates the guard file
 * (`.takeover`, exclusively) may delete, and it checks the token right before. While the lock
 * holds the stale token nobody else can replace it (its owner is dead, and deleting is
 * guarded), so a fresh lock is never deleted. The others wait a moment and try again.
 */
async function removeStaleLock(file: string, seen: LockOwner): Promise<void> {
  const guard = `${file}.takeover`;
  let handle;
  try {
    handle = await open(guard, 'wx');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const age = await stat(guard).then((s) => Date.now() - s.mtimeMs, () => 0);
    if (age > GUARD_ABANDONED_MS) await unlink(guard).catch(() => undefined);
    await new Promise((done) => setTimeout(done, 20));
    return;
  }
  try {
    await handle.close();
    const owner = await readOwner(file);
    if (owner !== 'gone' && owner !== null && owner.token === seen.token) {
      await unlink(file).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw error;
      });
    }
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

async function releaseLock(file: string, me: LockOwner): Promise<void> {
  const owner = await readOwner(file).catch(() => null);
  if (owner !== 'gone' && owner !== null && owner.token === me.token) {
    await unlink(file).catch(() => undefined);
  }
}
