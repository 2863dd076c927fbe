// `gpt train` in-process through the dispatcher: a run with --json prints typed events and
// writes the state and train.jsonl (held-out loss, prompt alignment) to --out; the bar mode prints its summary lines; running
// again without --resume refuses to touch the saved run, --resume continues it, and a
// missing --preset is a usage error (exit code 2).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { runGpt } from '../src/cli/gpt.js';
import { readTrainLog } from '../src/train/train-log.js';
import { readPointer } from '../src/train/train-state.js';
import { removeTempDirs, tempDir, writeToyDataset } from './train-toy.js';

afterAll(removeTempDirs);
afterEach(() => {
  vi.restoreAllMocks();
  process.exitCode = undefined;
});

import './train-toy-register.js'; // registers "toy_cli" here; child processes get it through --task-module

const BIN = fileURLToPath(new URL('../src/cli/bin.ts', import.meta.url));
const TOY_MODULE = fileURLToPath(new URL('./train-toy-register.ts', import.meta.url));

async function gpt(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => ((stdout += String(chunk)), true));
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => ((stderr += String(chunk)), true));
  process.exitCode = undefined;
  try {
    await runGpt(args);
  } finally {
    vi.restoreAllMocks();
  }
  const code = Number(process.exitCode ?? 0);
  process.exitCode = undefined;
  return { code, stdout, stderr };
}

describe('gpt train', () => {
  it('trains, logs, refuses to overwrite, resumes', async () => {
    const data = await writeToyDataset({ runs: 8, numTestRuns: 2 });
    const out = await tempDir();
    const common = ['train', '--data', data, '--preset', 'cartpole-small', '--model', 'tiny', '--no-sync', '--task', 'toy_cli', '--out', out, '--batch-size', '4', '--normalization-samples', '20', '--eval-every', '2', '--checkpoint-every', '2', '--align-every', '2', '--align-networks', '2', '--align-steps', '3'];

    const first = await gpt([...common, '--steps', '3', '--json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const events = first.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; step?: number });
    expect(events.filter((e) => e.type === 'step').map((e) => e.step)).toEqual([1, 2, 3]);
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(['data', 'normalization', 'start', 'eval', 'checkpoint', 'done']));
    expect(await readPointer(out, 'latest')).toBe('checkpoints/step-000000003');
    const logged = await readTrainLog(out);
    expect(logged.filter((r) => r.type === 'step')).toHaveLength(3);
    expect(logged.slice(0, 3).map((r) => r.type)).toEqual(['data', 'normalization', 'start']);
    // Held-out loss and prompt alignment (the toy's metric over a 20-prompt sweep) at step 2, and the best pointer by that score.
    expect(logged.find((r) => r.type === 'eval' && r.step === 2)).toMatchObject({ heldOutLoss: expect.any(Number), score: expect.any(Number), metrics: { medianR2: expect.any(Number) } });
    expect(await readPointer(out, 'best')).toMatch(/^checkpoints\/step-00000000[23]$/);

    const again = await gpt([...common, '--steps', '5']);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('already holds a training run (checkpoints/step-000000003); pass resume');

    const resumed = await gpt([...common, '--steps', '5', '--resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toContain('resuming at step 3');
    expect(resumed.stdout).toMatch(/trained to step 5 in \d+:\d\d; the EMA model is in /);
    expect(resumed.stdout).toMatch(/best checkpoint: step [2-5], prompt alignment [-\d.e]+ \(best\.json\)/);
    expect(await readPointer(out, 'latest')).toBe('checkpoints/step-000000005');

    // --max-minutes: stops after the step that reaches the budget (here 0: after one step), saved.
    const budgetOut = await tempDir();
    const budget = await gpt([...common.map((a) => (a === out ? budgetOut : a)), '--steps', '5', '--max-minutes', '0']);
    expect(budget.code).toBe(0);
    expect(await readPointer(budgetOut, 'latest')).toBe('checkpoints/step-000000001');
  });

  it('--preset is required without --resume', async () => {
    const { code, stderr } = await gpt(['train', '--data', 'x']);
    expect(code).toBe(2);
    expect(stderr).toContain('--preset is required (one of mnist_loss');
  });

  it('Ctrl-C (SIGINT) in a real process saves the last step, exits 130 and says how to resume', async () => {
    const data = await writeToyDataset({ runs: 8, numTestRuns: 2 });
    const out = await tempDir();
    const args = ['train', '--data', data, '--preset', 'cartpole-small', '--model', 'tiny', '--task', 'toy_cli', '--task-module', TOY_MODULE, '--out', out];
    const child = spawn(process.execPath, ['--conditions=@gpt/source', '--import', 'tsx', BIN, ...args, '--steps', '100000', '--batch-size', '4', '--normalization-samples', '20', '--eval-every', '0', '--align-every', '0', '--checkpoint-every', '1000', '--no-sync', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let interrupted = false;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => {
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (!interrupted && stdout.includes('"type":"step","step":3,')) interrupted = child.kill('SIGINT'); // once: a second Ctrl-C exits at once
      });
      child.on('close', (exitCode) => resolve(exitCode));
    });
    expect(code).toBe(130);
    const match = /interrupted at step (\d+); the state is saved in .*--resume to continue/.exec(stderr);
    if (!match) throw new Error(`no interruption message; stderr: ${stderr}`);
    expect(Number(match![1])).toBeGreaterThanOrEqual(3);
    expect(await readPointer(out, 'latest')).toBe(`checkpoints/step-${match![1]!.padStart(9, '0')}`);
  });
});
