// kill -9 while a checkpoint is being written: a child process trains the toy and blocks
// in the middle of writing the checkpoint of step 4 (after one of its files); the parent
// kills it with SIGKILL. The folder must still hold a loadable training state, the one of
// step 2: loadTrainedGpt reads it, and a resumed run continues from step 2, removes the
// half-written folder and ends exactly where an uninterrupted run ends.
import { spawn } from 'node:child_process';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { STATE_FILES, loadTrainedGpt, readPointer } from '../src/train/train-state.js';
import { trainGpt, type TrainGptOptions } from '../src/train/trainer.js';
import { removeTempDirs, tempDir, toyTrainOptions, writeToyDataset } from './train-toy.js';

afterAll(removeTempDirs);

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CHILD = fileURLToPath(new URL('./train-kill-child.ts', import.meta.url));

/** Starts the child, waits for "PAUSED", kills it with SIGKILL; resolves with what it printed. */
function killWhilePaused(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=@gpt/source', '--import', 'tsx', CHILD, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the child never paused; stdout: ${stdout}; stderr: ${stderr}`));
    }, 60_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('PAUSED')) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL' && stdout.includes('PAUSED')) resolve(stdout);
      else reject(new Error(`the child exited with ${signal ?? _code} before pausing; stderr: ${stderr}`));
    });
  });
}

/** The child's options (train-kill-child.ts), without its fsyncs. */
function resumeOptions(data: string, out: string, steps: number): TrainGptOptions {
  return toyTrainOptions(data, { out, checkpointEvery: 2, steps });
}

describe('kill -9 during a checkpoint write', () => {
  it.each([STATE_FILES.ema, STATE_FILES.state])('after %s of step 4: the step-2 state loads and resumes exactly', async (pauseFile) => {
    const data = await writeToyDataset();
    const out = await tempDir();
    const printed = await killWhilePaused([data, out, '4', pauseFile]);
    expect(printed).toContain('SAVED 2');
    expect(printed).not.toContain('SAVED 4');
    // The half-written folder is there, the pointer still names step 2.
    expect(await stat(join(out, 'checkpoints', 'step-000000004', pauseFile))).toBeTruthy();
    expect(await readPointer(out, 'latest')).toBe('checkpoints/step-000000002');

    const trained = await loadTrainedGpt(out);
    expect(trained.step).toBe(2);
    trained.model.dispose();

    const resumed = await trainGpt({ ...resumeOptions(data, out, 6), resume: true });
    resumed.trained.model.dispose();
    expect(resumed.history.map((h) => h.step)).toEqual([3, 4, 5, 6]);
    expect(await readdir(join(out, 'checkpoints'))).toEqual(['step-000000006']);

    const reference = await tempDir();
    (await trainGpt(resumeOptions(data, reference, 6))).trained.model.dispose();
    for (const f of [STATE_FILES.model, STATE_FILES.ema, STATE_FILES.optimizer]) {
      const [a, b] = await Promise.all([readFile(join(out, 'checkpoints/step-000000006', f)), readFile(join(reference, 'checkpoints/step-000000006', f))]);
      expect(a.equals(b), f).toBe(true);
    }
  });
});
