// Errors for everything this package reads. Every message starts with the file (or
// folder) it is about, then says what is wrong, so a bad file among thousands of run
// files can be found and removed without a debugger.

/** A file exists but its contents are not what the format promises. */
export class CheckpointFormatError extends Error {
  /** The file or folder the problem was found in. */
  readonly file: string;
  /** What is wrong, without the file name. */
  readonly problem: string;

  constructor(file: string, problem: string, options?: { cause?: unknown }) {
    super(`${file}: ${problem}`, options);
    this.name = 'CheckpointFormatError';
    this.file = file;
    this.problem = problem;
  }
}

/**
 * A pickle inside a PyTorch file names a global that is not on the allow-list.
 * Nothing from the file was called: the reader stops at the name.
 */
export class UnsafePickleError extends CheckpointFormatError {
  /** The global as `module.name`, e.g. `posix.system`. */
  readonly globalName: string;

  constructor(file: string, globalName: string) {
    super(
      file,
      `pickle refers to the global '${globalName}', which is not on the allow-list of ` +
        `tensor and state-dict types; refusing to load it (nothing from the file was executed)`,
    );
    this.name = 'UnsafePickleError';
    this.globalName = globalName;
  }
}

/** Who holds a dataset folder's writer lock (the contents of its lock file). */
export interface LockOwner {
  readonly pid: number;
  readonly host: string;
  /** ISO time at which the holder took the lock. */
  readonly startedAt: string;
  readonly command: string;
  /** Random: tells this holder's lock from a later one of the same process. */
  readonly token: string;
}

/**
 * A dataset folder is locked by another writer (a live process, or one on another host
 * whose liveness cannot be checked). Nothing in the folder was changed.
 */
export class DatasetLockedError extends Error {
  /** The lock file. */
  readonly lockFile: string;
  /** The holder, or null when the lock file cannot be read. */
  readonly owner: LockOwner | null;

  constructor(lockFile: string, owner: LockOwner | null, message: string) {
    super(message);
    this.name = 'DatasetLockedError';
    this.lockFile = lockFile;
    this.owner = owner;
  }
}
