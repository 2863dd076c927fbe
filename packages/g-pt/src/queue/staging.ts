// How queue workers on many machines write into one dataset folder without its
// single-writer lock. Each worker slot owns a private staging folder
// (<dir>/runs/.gpt-queue/staging/<host>~<pid>~<slot>~<random>) and writes every run there
// through @gpt/checkpoints' DatasetWriter (which locks that private folder and writes
// each file atomically). A finished run file is then published into <dir>/runs with
// link(2): atomic, on the same file system by construction, and it never replaces a file
// that is already there, so two workers that trained the same run (a stalled job that
// was not dead after all) leave exactly one copy and readers never see a partial file.
// Only a run the coordinator found damaged is replaced, by rename(2).
import { randomBytes } from 'node:crypto';
import { link, lstat, mkdir, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { DatasetManifest, RunData } from '@gpt/checkpoints';
import { DatasetWriter, processAlive, runFilePath } from '@gpt/checkpoints/node';
import { queueDirOf } from './spec.js';

const SEPARATOR = '~'; // not in host names, so a staging name splits unambiguously

export function stagingRootOf(dir: string): string {
  return join(queueDirOf(dir), 'staging');
}

export interface StagingFolder {
  readonly path: string;
  /** Writes `run` into the staging folder and publishes it into the dataset; 'exists' when another worker published it first. */
  publish(run: string, data: RunData, options: { replace: boolean; signal?: AbortSignal }): Promise<{ outcome: 'written' | 'exists'; bytes: number }>;
  /** Releases the staging folder's lock and deletes it. */
  remove(): Promise<void>;
}

/** fsync a folder so that a link or rename in it survives a power loss (no-op where unsupported). */
async function syncFolder(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EPERM') throw error;
  } finally {
    await handle.close();
  }
}

const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/** Moves the complete file `staged` to `target` unless `target` exists (or always, with `replace`). */
async function publishFile(staged: string, target: string, replace: boolean): Promise<'written' | 'exists'> {
  if (replace) {
    await rename(staged, target);
    return 'written';
  }
  try {
    await link(staged, target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') {
      await unlink(staged);
      return 'exists';
    }
    if (!NO_HARD_LINKS.has(code)) throw error;
    // A file system without hard links (some FUSE and SMB mounts): check, then rename. Two
    // workers racing on one run may then both rename; their files are identical.
    if (await lstat(target).then(() => true, () => false)) {
      await unlink(staged);
      return 'exists';
    }
    await rename(staged, target);
    return 'written';
  }
  await unlink(staged);
  return 'written';
}

/** Opens a fresh staging folder for one worker slot. */
export async function openStagingFolder(dir: string, manifest: DatasetManifest, slot: number, noSync: boolean): Promise<StagingFolder> {
  const root = stagingRootOf(dir);
  await mkdir(root, { recursive: true });
  const path = join(root, [hostname(), process.pid, slot, randomBytes(4).toString('hex')].join(SEPARATOR));
  const writer = await DatasetWriter.create(path, manifest, { noSync, command: `gpt worker staging slot ${slot}` });
  const runsDir = join(dir, 'runs');
  return {
    path,
    async publish(run, data, { replace, signal }) {
      const { file, bytes } = await writer.writeRun(run, data, { signal, overwrite: true, allowNonFinite: true });
      const outcome = await publishFile(file, runFilePath(dir, run), replace);
      if (outcome === 'written' && !noSync) await syncFolder(runsDir);
      return { outcome, bytes };
    },
    async remove() {
      await writer.close();
      await rm(path, { recursive: true, force: true });
    },
  };
}

/**
 * Deletes staging folders of dead workers of this host (a kill -9 leaves its folder). A
 * folder of another host is left: its worker's liveness cannot be checked from here.
 */
export async function removeDeadStagingFolders(dir: string): Promise<number> {
  const root = stagingRootOf(dir);
  let names: string[];
  try {
    names = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const host = hostname();
  let removed = 0;
  for (const name of names) {
    const [owner, pid] = name.split(SEPARATOR);
    if (owner !== host || pid === undefined || processAlive(Number(pid))) continue;
    await rm(join(root, name), { recursive: true, force: true });
    removed++;
  }
  return removed;
}
