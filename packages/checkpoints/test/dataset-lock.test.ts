// The writer lock of a dataset folder: one writer at a time (DatasetWriter, both
// generateDataset functions, the converter), a clear refusal naming the holder, stale
// locks of dead processes taken over, and temporary files never deleted under a live
// writer. The main test runs two real processes on one folder.
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DatasetLockedError } from '../src/index.js';
import { CheckpointDataset, type DatasetLock, DatasetWriter, LOCK_FILE, RUNS_DIR, acquireDatasetLock, generateDataset, processAlive } from '../src/node.js';
import { SMALL_MANIFEST, makeRun } from './helpers/runs.js';
import { useTempDirs } from './helpers/temp-dir.js';

const tempDir = useTempDirs();
const CHILD = new URL('./fixtures/write-dataset-child.ts', import.meta.url).pathname;

function deadPid(from: number): number {
  let pid = from;
  while (processAlive(pid)) pid -= 1;
  return pid;
}

/** A child writer; `lines` collects its JSON lines, `next(test)` waits for a matching one. */
function spawnWriter(dir: string, runs: number, delayMs: number, goFile?: string) {
  const args = [CHILD, dir, String(runs), String(delayMs), ...(goFile ? [goFile] : [])];
  const child = spawn(process.execPath, ['--conditions=@gpt/source', '--import', 'tsx', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: Record<string, unknown>[] = [];
  let stderr = '';
  const waiters: { test: (line: Record<string, unknown>) => boolean; resolve: () => void }[] = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const parts = buffered.split('\n');
    buffered = parts.pop()!;
    for (const part of parts.filter(Boolean)) {
      const line = JSON.parse(part) as Record<string, unknown>;
      lines.push(line);
      for (const w of waiters.filter((w) => w.test(line))) w.resolve();
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const next = (test: (line: Record<string, unknown>) => boolean): Promise<void> =>
    new Promise((resolve, reject) => {
      if (lines.some(test)) return resolve();
      waiters.push({ test, resolve });
      void exit.then((code) => reject(new Error(`writer exited (${code}) first; stderr: ${stderr}`)));
    });
  return { child, lines, exit, next, stderr: () => stderr };
}

describe('two writer processes on one folder', () => {
  it('the second is refused naming the first (pid, host, start time); the first finishes and the folder validates', async () => {
    const dir = await tempDir();
    const go = join(await tempDir(), 'go'); // the first writer holds after its first run until this exists
    const first = spawnWriter(dir, 6, 20, go);
    await first.next((l) => l.type === 'run-written');
    const second = spawnWriter(dir, 6, 0);
    expect(await second.exit).toBe(2);
    writeFileSync(go, '');
    const refusal = second.lines.find((l) => l.error) as { error: { name: string; message: string; owner: { pid: number; host: string; startedAt: string } } };
    expect(refusal.error.name).toBe('DatasetLockedError');
    expect(refusal.error.owner).toMatchObject({ pid: first.child.pid, host: hostname() });
    const { startedAt } = refusal.error.owner;
    expect(refusal.error.message).toContain(`${dir} is locked by another writer: process ${first.child.pid} on host ${hostname()}, since ${startedAt} (write-dataset-child ${dir})`);
    expect(await first.exit).toBe(0);
    expect(first.lines.filter((l) => l.type === 'run-written')).toHaveLength(6);
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', 'runs']); // lock released, no temporary files
    expect(readdirSync(join(dir, RUNS_DIR))).toHaveLength(6);
    const dataset = await CheckpointDataset.open(dir);
    const report = await dataset.validate({ checkFinite: true });
    expect(report.bad).toEqual([]);
    expect(report.ok).toHaveLength(6);
    expect((await dataset.readRun('000004')).parameters).toEqual(makeRun(5).parameters);
    await dataset.close();
  }, 60_000);
});

describe('DatasetWriter and generateDataset take the lock', () => {
  it('a second writer in the same process is refused until the first closes; the first finishes', async () => {
    const dir = await tempDir();
    const writer = await DatasetWriter.create(dir, SMALL_MANIFEST, { noSync: true, command: 'first writer' });
    await writer.writeRun('000000', makeRun(1));
    await expect(DatasetWriter.create(dir, SMALL_MANIFEST)).rejects.toThrow(DatasetLockedError);
    const refused = generateDataset(dir, SMALL_MANIFEST, { runs: ['000001'], makeRun: () => makeRun(2) });
    await expect(refused).rejects.toThrow(/locked by another writer in this process \(process \d+ on host .*, since .* \(first writer\)\)/);
    await writer.writeRun('000001', makeRun(2));
    await writer.close();
    await writer.close(); // idempotent
    await expect(writer.writeRun('000002', makeRun(3))).rejects.toThrow(/used after close/);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const result = await generateDataset(dir, SMALL_MANIFEST, { runs: ['000000', '000001', '000002'], makeRun: (_, i) => makeRun(i + 1), noSync: true });
    expect(result).toEqual({ written: ['000002'], skipped: ['000000', '000001'] });
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const dataset = await CheckpointDataset.open(dir);
    expect((await dataset.validate()).ok).toEqual(['000000', '000001', '000002']);
    await dataset.close();
  });

  it('a writer under a lock the caller holds leaves it to the caller; a lock on another folder is refused', async () => {
    const dir = await tempDir();
    const lock = await acquireDatasetLock(dir, { command: 'caller' });
    const writer = await DatasetWriter.create(dir, SMALL_MANIFEST, { lock, noSync: true });
    await writer.writeRun('000000', makeRun(1));
    await writer.close();
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'))).toMatchObject({ command: 'caller' });
    await expect(DatasetWriter.create(await tempDir(), SMALL_MANIFEST, { lock })).rejects.toThrow(/the lock given is on/);
    await lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
  });

  it("deletes only dead writers' temporary files, never a live process's", async () => {
    const dir = await tempDir();
    await mkdir(join(dir, RUNS_DIR), { recursive: true });
    const live = `.000001.safetensors.tmp-${process.ppid}-0badcafe`; // the test runner's parent: alive
    const dead = `.000002.safetensors.tmp-${deadPid(999_980)}-deadbeef`;
    await writeFile(join(dir, RUNS_DIR, live), 'half');
    await writeFile(join(dir, RUNS_DIR, dead), 'half');
    await (await DatasetWriter.create(dir, SMALL_MANIFEST)).close();
    expect(await readdir(join(dir, RUNS_DIR))).toEqual([live]);
  });
});

describe('acquireDatasetLock', () => {
  it('writes pid, host, start time and command, refuses a second taker and releases only its own lock', async () => {
    const dir = await tempDir();
    const lock = await acquireDatasetLock(dir, 'gpt data --runs 3');
    const owner = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8'));
    expect(owner).toMatchObject({ pid: process.pid, host: hostname(), command: 'gpt data --runs 3' });
    expect(Date.parse(owner.startedAt)).toBeGreaterThan(Date.now() - 60_000);
    const second = acquireDatasetLock(dir);
    await expect(second).rejects.toThrow(DatasetLockedError);
    await expect(second).rejects.toThrow(/locked by another writer in this process \(.*gpt data --runs 3\)\); wait for it to finish or stop it/);
    await lock.release();
    expect(existsSync(join(dir, LOCK_FILE))).toBe(false);
    const again = await acquireDatasetLock(dir);
    await lock.release(); // the old holder's release leaves the new lock alone
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    await again.release();
  });

  it("takes over a dead process's lock on this host", async () => {
    const dir = await tempDir();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(999_999), host: hostname(), startedAt: '2026-01-01T00:00:00Z', command: 'killed' }));
    const lock = await acquireDatasetLock(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')).pid).toBe(process.pid);
    await lock.release();
  });

  it('several writers finding the same stale lock: one takes it, the others are refused, no moved copy is left', async () => {
    const dir = await tempDir();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: deadPid(999_998), host: hostname(), startedAt: '2026-01-01T00:00:00Z', command: 'killed', token: 'old' }));
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => acquireDatasetLock(dir)));
    const won = results.filter((r) => r.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(DatasetLockedError);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    await (won[0] as PromiseFulfilledResult<DatasetLock>).value.release();
  });

  it('a takeover guard left by a writer that died mid-takeover is removed once old; a fresh one makes others wait', async () => {
    const dir = await tempDir();
    const stale = JSON.stringify({ pid: deadPid(999_997), host: hostname(), startedAt: '2026-01-01T00:00:00Z', command: 'killed', token: 'old' });
    writeFileSync(join(dir, LOCK_FILE), stale);
    writeFileSync(join(dir, `${LOCK_FILE}.takeover`), '');
    // A guard being used right now: nobody deletes the stale lock meanwhile.
    await expect(acquireDatasetLock(dir)).rejects.toThrow(/could not take the lock/);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe(stale);
    // The same guard, 60 s old: abandoned, so it is removed and the stale lock taken over.
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, `${LOCK_FILE}.takeover`), old, old);
    const lock = await acquireDatasetLock(dir);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    await lock.release();
  });

  it('refuses a lock from another host, and an unreadable one, saying which file to delete', async () => {
    const dir = await tempDir();
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify({ pid: 1, host: 'other-machine', startedAt: '2026-01-01T00:00:00Z', command: 'gpt data' }));
    await expect(acquireDatasetLock(dir)).rejects.toThrow(
      new RegExp(`process 1 on host other-machine, since 2026-01-01T00:00:00Z \\(gpt data\\); its liveness cannot be checked from ${hostname()}: if that process is gone, delete ${join(dir, LOCK_FILE)}`),
    );
    writeFileSync(join(dir, LOCK_FILE), 'garbage');
    await expect(acquireDatasetLock(dir)).rejects.toThrow(/cannot be read; if no other writer is running on this folder, delete that file/);
    expect(readFileSync(join(dir, LOCK_FILE), 'utf8')).toBe('garbage');
    // A FIFO or a folder in the lock's place: refused the same way, without blocking.
    const fifo = await tempDir();
    execFileSync('mkfifo', [join(fifo, LOCK_FILE)]);
    await expect(DatasetWriter.create(fifo, SMALL_MANIFEST)).rejects.toThrow(/\.gpt-data\.lock, which cannot be read/);
    const folder = await tempDir();
    await mkdir(join(folder, LOCK_FILE));
    await expect(acquireDatasetLock(folder)).rejects.toThrow(/\.gpt-data\.lock, which cannot be read/);
  });
});
