// The PPO baseline of the Cartpole task on a tiny recipe (16 envs x 8 steps, 1 epoch of 1
// minibatch): the report's shape, each recorded point against a direct trainPpo run of its
// own (an independent path: a longer run, one checkpoint, measured by task.evaluate),
// determinism under the per-network seeds, "worth" on a PPO curve, and bad input.
import { trainPpo } from '@gpt/rl-cartpole';
import { describe, expect, it } from 'vitest';
import { stepsWorth, summarizeWorth } from '../src/eval/gradient-baseline.js';
import { defaultPpoRecord, isCartpoleTask, ppoBaseline } from '../src/eval/ppo-baseline.js';
import { unseenInitializations } from '../src/eval/demo-pipeline.js';
import { createCartpoleTask, type CartpoleTask } from '../src/tasks/cartpole.js';
import { createMoonsTask } from '../src/tasks/moons.js';

const RECIPE = { numEnvs: 16, numSteps: 8, iterations: 20, epochs: 1, minibatches: 1 };

async function setup(): Promise<{ task: CartpoleTask; params: Float32Array[] }> {
  const task = await createCartpoleTask({ recipe: RECIPE });
  return { task, params: unseenInitializations(task, 2, 3) };
}

const mean = (values: readonly number[]) => values.reduce((a, b) => a + b, 0) / values.length;

describe('ppoBaseline', () => {
  it('gives one curve per learning rate, each point the task measuring a direct PPO run', async () => {
    const { task, params } = await setup();
    const events: string[] = [];
    const report = await ppoBaseline(task, params, { iterations: 4, learningRates: [1e-3, 3e-2], record: [1, 3, 4], seed: 5, onProgress: (e) => events.push(`${e.done}/${e.total} lr ${e.lr} net ${e.network}`) });
    expect(events).toEqual(['1/4 lr 0.001 net 0', '2/4 lr 0.001 net 1', '3/4 lr 0.03 net 0', '4/4 lr 0.03 net 1']);
    expect(report).toMatchObject({ task: 'cartpole', metric: 'train_ret', goal: 'maximize' });
    expect(report.startMetric).toBe(mean((await task.evaluate(params)).map((m) => m.train_ret!)));
    expect(report.curves.map((c) => [c.optimizer, c.lr, c.steps])).toEqual([
      ['ppo', 1e-3, [1, 3, 4]],
      ['ppo', 3e-2, [1, 3, 4]],
    ]);
    for (const c of report.curves) {
      expect(c.metrics).toHaveLength(2);
      c.metrics.forEach((m) => expect(m).toHaveLength(3));
      c.meanMetric.forEach((v, k) => expect(v).toBeCloseTo(mean(c.metrics.map((m) => m[k]!)), 12));
    }
    const last = report.curves.map((c) => c.meanMetric.at(-1)!);
    expect(report.bestLearningRate).toEqual({ ppo: last[1]! > last[0]! ? 3e-2 : 1e-3 });

    // Independent path: network 1 at lr 0.03, a 6-iteration constant-lr run of trainPpo
    // saving only iteration 3, seeded by seed + network; the task measures that vector.
    const saved: Float32Array[] = [];
    const direct = await trainPpo({ ...task.ppo, iterations: 6, lrSchedule: 'constant', learningRate: 3e-2, seed: 5 + 1, initialPolicy: params[1], checkpointIterations: [3], onCheckpoint: (c) => void saved.push(c.flatPolicy) });
    direct.policy.dispose();
    direct.critic.dispose();
    const [measured] = await task.evaluate(saved);
    expect(report.curves[1]!.metrics[1]![1]).toBe(measured!.train_ret);
    // PPO moved the policy at all: the measured returns are not all the start's.
    expect(new Set(report.curves.flatMap((c) => c.metrics.flat())).size).toBeGreaterThan(1);
  }, 30_000);

  it('is deterministic under the seed, and the seed matters', async () => {
    const { task, params } = await setup();
    const run = (seed: number) => ppoBaseline(task, params, { iterations: 3, learningRates: [3e-2], seed });
    const a = await run(0);
    expect(a.curves[0]!.steps).toEqual([1, 2, 3]); // the default record below 10: every iteration
    expect(await run(0)).toEqual(a);
    expect((await run(1)).curves[0]!.metrics).not.toEqual(a.curves[0]!.metrics);
  }, 30_000);

  it('stepsWorth and summarizeWorth read a PPO curve in iterations', async () => {
    const curve = { optimizer: 'ppo' as const, lr: 1e-3, steps: [1, 2, 5, 10], meanMetric: [20, 25, 60, 120], metrics: [[20, 25, 60, 120]] };
    expect(stepsWorth(curve, 50, 'maximize')).toEqual({ optimizer: 'ppo', lr: 1e-3, steps: 5, finalMetric: 120 });
    expect(stepsWorth(curve, 25, 'maximize').steps).toBe(2);
    expect(stepsWorth(curve, 121, 'maximize').steps).toBeNull();
    const other = { ...curve, lr: 3e-3, meanMetric: [40, 80, 90, 95] };
    const worth = summarizeWorth({ task: 'cartpole', metric: 'train_ret', goal: 'maximize', startMetric: 18, curves: [curve, other], bestLearningRate: { ppo: 1e-3 } }, 70);
    expect(worth.perCurve.map((w) => w.steps)).toEqual([10, 2]);
    expect(worth.fewest.ppo).toMatchObject({ lr: 3e-3, steps: 2 });
    expect(worth.atBestLearningRate.ppo).toMatchObject({ lr: 1e-3, steps: 10 });
  });

  it('records every iteration up to 10, then 15 log-spaced ones to N', () => {
    expect(defaultPpoRecord(4)).toEqual([1, 2, 3, 4]);
    const r = defaultPpoRecord(500);
    expect(r.slice(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(r.at(-1)).toBe(500);
    expect(r.length).toBe(25);
    r.slice(1).forEach((v, i) => expect(v).toBeGreaterThan(r[i]!));
  });

  it('rejects bad input naming it, and stops on an aborted signal', async () => {
    const { task, params } = await setup();
    expect(isCartpoleTask(task)).toBe(true);
    const moons = await createMoonsTask();
    expect(isCartpoleTask(moons)).toBe(false);
    await expect(ppoBaseline(moons as unknown as CartpoleTask, params, { iterations: 2 })).rejects.toThrow('ppoBaseline: task "moons_loss" is not the Cartpole task (it has no PPO settings)');
    await expect(ppoBaseline(task, params, { iterations: 0 })).rejects.toThrow('ppoBaseline: iterations must be a positive integer, got 0');
    await expect(ppoBaseline(task, [], { iterations: 2 })).rejects.toThrow('ppoBaseline: params is empty');
    await expect(ppoBaseline(task, [params[0]!, new Float32Array(3)], { iterations: 2 })).rejects.toThrow('ppoBaseline: params[1] must be a Float32Array of 1250 values');
    await expect(ppoBaseline(task, params, { iterations: 2, learningRates: [1e-3, -1] })).rejects.toThrow('ppoBaseline: learningRates must be positive numbers, got [0.001,-1]');
    await expect(ppoBaseline(task, params, { iterations: 2, learningRates: [] })).rejects.toThrow(/learningRates must be positive numbers/);
    await expect(ppoBaseline(task, params, { iterations: 2, record: [1, 3] })).rejects.toThrow('ppoBaseline: record entries must be integers in [1, 2], got 3');
    await expect(ppoBaseline(task, params, { iterations: 2, record: [] })).rejects.toThrow('ppoBaseline: record is empty');
    await expect(ppoBaseline(task, params, { iterations: 2, seed: -1 })).rejects.toThrow('ppoBaseline: seed must be a non-negative integer, got -1');
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(ppoBaseline(task, params, { iterations: 2, signal: controller.signal })).rejects.toThrow('stop');
  }, 30_000);
});
