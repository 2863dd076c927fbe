// A small LRU of open file handles. Random-access pair sampling touches two checkpoints
// in a random run per example; reopening the file each time costs more than the read
// itself, and keeping every run open would exhaust file descriptors on big datasets.
// Handles in use are never closed; idle ones are closed oldest first. Only regular files
// are opened (openRegularFile: a FIFO or directory fails naming the file, never blocks).
import { type ReadHandle, openRegularFile } from './regular-file.js';

type Handle = ReadHandle;

interface Entry {
  readonly handle: Promise<Handle>;
  users: number;
}

export class FileHandlePool {
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(private readonly maxOpen = 64) {}

  /** Runs `fn` with an open read-only handle of `path` (`what` names the file in errors, e.g. "run file"). */
  async use<T>(path: string, fn: (handle: Handle) => Promise<T>, what = 'file'): Promise<T> {
    if (this.closed) throw new Error('FileHandlePool: used after close()');
    let entry = this.entries.get(path);
    if (entry) {
      this.entries.delete(path); // re-insert: Map order is the LRU order
    } else {
      entry = { handle: openRegularFile(path, what), users: 0 };
    }
    this.entries.set(path, entry);
    entry.users++;
    try {
      const handle = await entry.handle;
      return await fn(handle);
    } catch (error) {
      if (this.entries.get(path) === entry && entry.users === 1) {
        this.entries.delete(path); // a failed open (or a file that went bad) is not cached
        await entry.handle.then((h) => h.close(), () => undefined);
        entry.users = 0;
      }
      throw error;
    } finally {
      if (entry.users > 0) entry.users--;
      await this.evict();
    }
  }

  /** Closes the handle of `path` if idle (e.g. before the file is replaced). */
  async forget(path: string): Promise<void> {
    const entry = this.entries.get(path);
    if (entry && entry.users === 0) {
      this.entries.delete(path);
      await entry.handle.then((h) => h.close(), () => undefined);
    }
  }

  private async evict(): Promise<void> {
    if (this.entries.size <= this.maxOpen) return;
    for (const [path, entry] of this.entries) {
      if (this.entries.size <= this.maxOpen) break;
      if (entry.users > 0) continue;
      this.entries.delete(path);
      await entry.handle.then((h) => h.close(), () => undefined);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.handle.then((h) => h.close(), () => undefined)));
  }
}
