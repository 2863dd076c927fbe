// Crash-safe file replacement: write a temporary file next to the target, fsync it,
// rename it over the target, then fsync the folder so the rename itself is durable.
// After a crash at any point the target is either the old complete file or the new
// complete file, never a mix; what can be left behind is a temporary file, which
// `isTemporaryFileName` recognises so that resumable writers can delete it.
import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

const TEMP_MARK = '.tmp-';

/** The temporary name used while `target` is being written. */
function temporaryPathFor(target: string): string {
  const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
  return join(dirname(target), `.${basename(target)}${TEMP_MARK}${suffix}`);
}

/** True for names produced by `writeFileAtomic` for files it had not finished. */
export function isTemporaryFileName(name: string): boolean {
  return name.startsWith('.') && name.includes(TEMP_MARK);
}

/** The pid of the process that wrote temporary file `name`, or null when the name does not say. */
export function temporaryFileOwner(name: string): number | null {
  const match = /\.tmp-(\d+)-[0-9a-f]+$/.exec(name);
  if (!match) return null;
  const pid = Number(match[1]);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
}

export interface AtomicWriteOptions {
  signal?: AbortSignal;
  /** Skip fsync (tests and benchmarks of the non-durable path only). Default false. */
  noSync?: boolean;
}

/**
 * Writes `chunks` to `target` atomically. The chunks are written in order with
 * vectored writes, so large typed arrays are not concatenated in memory first.
 */
export async function writeFileAtomic(
  target: string,
  chunks: readonly Uint8Array[],
  options: AtomicWriteOptions = {},
): Promise<void> {
  options.signal?.throwIfAborted();
  const temporary = temporaryPathFor(target);
  const handle = await open(temporary, 'wx');
  let renamed = false;
  try {
    await writeAll(handle, chunks);
    if (!options.noSync) await handle.sync();
    await handle.close();
    options.signal?.throwIfAborted();
    await rename(temporary, target);
    renamed = true;
    if (!options.noSync) await syncDirectory(dirname(target));
  } catch (error) {
    await handle.close().catch(() => undefined); // already closed on the success path
    if (!renamed) await unlink(temporary).catch(() => undefined);
    throw error;
  }
}

type WritableHandle = Awaited<ReturnType<typeof open>>;

// writev may write fewer bytes than asked (large buffers, signals); loop until done.
async function writeAll(handle: WritableHandle, chunks: readonly Uint8Array[]): Promise<void> {
  let pending = chunks.filter((c) => c.byteLength > 0);
  while (pending.length > 0) {
    const batch = pending.slice(0, 1024); // IOV_MAX is 1024 on Linux
    let { bytesWritten } = await handle.writev(batch);
    const rest: Uint8Array[] = [];
    for (const chunk of batch) {
      if (bytesWritten >= chunk.byteLength) {
        bytesWritten -= chunk.byteLength;
      } else {
        rest.push(chunk.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    pending = [...rest, ...pending.slice(batch.length)];
  }
}

/** fsync a directory so a rename in it survives a power loss (no-op where unsupported). */
export async function syncDirectory(path: string): Promise<void> {
  let handle: WritableHandle | undefined;
  try {
    handle = await open(path, 'r');
    await handle.sync();
  } catch (error) {
    // Some platforms (Windows) cannot open or fsync directories; the rename is still atomic there.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close();
  }
}
