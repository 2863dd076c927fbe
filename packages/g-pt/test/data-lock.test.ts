// The dataset folder lock is @gpt/checkpoints' one lock, and where the data
// worker starts from (the sources through tsx, or the built package's data-worker file).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DatasetLockedError as CheckpointsLockedError, createManifest } from '@gpt/checkpoints';
import { DatasetWriter, acquireDatasetLock as checkpointsLock } from '@gpt/checkpoints/node';
import { DatasetLockedError, LOCK_FILE, acquireDatasetLock } from '../src/data/dataset-lock.js';
import { dataWorkerEntry } from '../src/data/trainers.js';

const root = mkdtempSync(join(tmpdir(), 'gpt-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
function folder(): string {
  const dir = join(root, `f${n++}`);
  mkdirSync(dir);
  return dir;
}

describe('the dataset lock', () => {
  // The lock itself (stale, foreign-host, unreadable locks, two processes) is tested in
  // @gpt/checkpoints (test/dataset-lock.test.ts), where it lives; g-pt uses that one lock.
  it("is @gpt/checkpoints' lock, so g-pt's generator and every DatasetWriter exclude each other", async () => {
    expect(acquireDatasetLock).toBe(checkpointsLock);
    expect(DatasetLockedError).toBe(CheckpointsLockedError);
    const dir = folder();
    const lock = await acquireDatasetLock(dir, 'gpt data --runs 3');
    const writer = DatasetWriter.create(dir, createManifest({ task: 't', tensors: [{ name: 'w', shape: [2] }], metrics: ['loss'] }));
    await expect(writer).rejects.toThrow(DatasetLockedError);
    await expect(writer).rejects.toThrow(new RegExp(`locked by another writer in this process \\(process ${process.pid} on host .*gpt data --runs 3`));
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ pid: process.pid, command: 'gpt data --runs 3' });
    await lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });
});

describe('dataWorkerEntry', () => {
  it('starts the built worker beside the bundle: data-worker.js (ESM) or data-worker.cjs (CommonJS)', () => {
    expect(String(dataWorkerEntry('file:///pkg/dist/chunk-ABC.js').entry)).toBe('file:///pkg/dist/data-worker.js');
    expect(String(dataWorkerEntry('file:///pkg/dist/chunk-ABC.cjs').entry)).toBe('file:///pkg/dist/data-worker.cjs');
    expect(dataWorkerEntry('file:///pkg/dist/index.js').options).toEqual({});
  });

  it('starts the sources through a bootstrap that registers tsx, with the @gpt/source condition', () => {
    const { entry, options } = dataWorkerEntry(new URL('../src/data/trainers.ts', import.meta.url).href);
    expect(options.eval).toBe(true);
    expect(options.execArgv).toContain('--conditions=@gpt/source');
    expect(entry).toMatch(/tsx\/dist\/esm\/api\/index\.mjs.*register\(\).*src\/data\/worker\.ts/);
  });
});
