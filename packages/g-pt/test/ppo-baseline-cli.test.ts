// `gpt eval --only gradient` on a tiny Cartpole G.pt (a dataset of 4 tiny PPO runs, 2 training
// steps: the plumbing, not its quality): instead of "skipped" it runs the PPO baseline, prints
// what one G.pt update is worth in PPO iterations and Adam steps, and eval.json holds the
// numbers it printed, the same as ppoBaseline gives from the same networks.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../src/tasks/builtin.js';
import * as evalCli from '../src/cli/eval.js';
import { runCli } from '../src/cli/options.js';
import { generateDataset } from '../src/data/generate.js';
import { unseenInitializations } from '../src/eval/demo-pipeline.js';
import { ppoBaseline } from '../src/eval/ppo-baseline.js';
import { createCartpoleTask } from '../src/tasks/cartpole.js';
import { trainGpt } from '../src/train/trainer.js';

const dir = mkdtempSync(join(tmpdir(), 'gpt-ppo-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// 2 Adam steps per PPO iteration, so the printed Adam-step count is not the iteration count.
const RECIPE = { numEnvs: 16, numSteps: 8, iterations: 6, epochs: 2, minibatches: 1 };

describe('gpt eval --only gradient on Cartpole', () => {
  it('runs the PPO baseline and reports it', async () => {
    const data = join(dir, 'data');
    await generateDataset({ task: 'cartpole', taskOptions: { recipe: RECIPE }, runs: 4, out: data, workers: 0, checkpointsPerRun: 3, numTestRuns: 1, noSync: true });
    const model = join(dir, 'gpt');
    const trained = await trainGpt({ data, task: 'cartpole', model: 'tiny', batchSize: 4, epochSize: 8, normalizationSamples: 8, lr: 1e-3, schedule: { kind: 'constant', warmupSteps: 0 }, ema: { decay: 0.9 }, steps: 2, evalEvery: 0, out: model, noSync: true });
    trained.trained.model.dispose();

    const lines: string[] = [];
    let exitCode = 0;
    const io = { stdout: () => undefined, stderr: () => undefined, setExitCode: (code: number) => void (exitCode = code) };
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => (lines.push(...String(chunk).split('\n').filter(Boolean)), true)) as typeof process.stdout.write;
    const out = join(dir, 'eval');
    try {
      const args = ['--model', model, '--task-options', JSON.stringify({ recipe: RECIPE }), '--only', 'gradient', '--networks', '2', '--steps', '2', '--ppo-iterations', '3', '--ppo-lrs', '0.001,0.03', '--seed', '1', '--out', out];
      await runCli(evalCli.cli, evalCli.main, args, io);
    } finally {
      process.stdout.write = write;
    }
    expect(exitCode).toBe(0);
    expect(lines.join('\n')).not.toContain('skipped');
    const report = JSON.parse(readFileSync(join(out, 'eval.json'), 'utf8'));
    expect(report.adamStepsPerPpoIteration).toBe(2);
    expect(report.gradient.curves.map((c: { optimizer: string; lr: number; steps: number[] }) => [c.optimizer, c.lr, c.steps])).toEqual([
      ['ppo', 0.001, [1, 2, 3]],
      ['ppo', 0.03, [1, 2, 3]],
    ]);
    // The same networks and seed through the function give the same curves.
    const task = await createCartpoleTask({ recipe: RECIPE });
    const direct = await ppoBaseline(task, unseenInitializations(task, 2, 1), { iterations: 3, learningRates: [0.001, 0.03], seed: 1 });
    expect(report.gradient.curves).toEqual(direct.curves);
    expect(report.gradient.startMetric).toBeCloseTo(report.oneStep.meanBefore, 12);
    // Each curve's line prints its worth in iterations and in Adam steps (2 per iteration).
    for (const w of report.worth.perCurve as { lr: number; steps: number | null; finalMetric: number }[]) {
      const worth = w.steps === null ? 'more than 3 PPO iterations (more than 6 Adam steps)' : `${w.steps} PPO iterations (${w.steps * 2} Adam steps)`;
      expect(lines).toContain(`ppo lr ${w.lr}: after 3 iterations ${w.finalMetric.toFixed(4)}; one G.pt update is worth ${worth}`);
    }
    const svg = readFileSync(join(out, 'gpt-vs-gradient.svg'), 'utf8');
    expect(svg).toContain('PPO iterations');
    expect(svg).toContain('PPO lr 0.03');
    expect(existsSync(join(out, 'eval.json'))).toBe(true);
  }, 60_000);
});
