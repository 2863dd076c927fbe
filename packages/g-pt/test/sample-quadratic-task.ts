// A tiny task for the sampling and evaluation tests: a Linear(2 -> 3) whose "loss" is the
// mean squared distance of its 9 parameters to a fixed target vector, trained by plain
// gradient descent. Cheap, deterministic and exactly computable by hand, so the tests can
// check what optimize() and the evaluations measure.
import { Linear } from '@gpt/nn';
import type { Generator } from '@gpt/tensor';
import { Generator as Rng } from '@gpt/tensor';
import type { RunData } from '@gpt/checkpoints';
import type { Task } from '../src/tasks/task.js';

export const QUADRATIC_TARGET = Float32Array.from([0.5, -0.25, 0.1, 0.3, -0.4, 0.2, 0.05, -0.1, 0.15]);

/** mean((p - target)²): the task's metric, in float64. */
export function quadraticLoss(p: Float32Array): number {
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i]! - QUADRATIC_TARGET[i]!) ** 2;
  return s / p.length;
}

export function quadraticTask(name = 'test_quadratic', options: { goal?: 'minimize' | 'maximize' } = {}): Task {
  const tensors = [
    { name: 'weight', shape: [3, 2] },
    { name: 'bias', shape: [3] },
  ];
  const goal = options.goal ?? 'minimize';
  // A maximize task reports the negated loss, so that larger is better.
  const metricOf = (p: Float32Array) => (goal === 'minimize' ? quadraticLoss(p) : -quadraticLoss(p));
  return {
    name,
    dataset: name,
    description: 'test task: mean squared distance of 9 parameters to a fixed vector',
    tensors,
    parameterCount: 9,
    permutation: { tensors, groups: [] },
    datasetMetrics: ['loss'],
    metric: { name: 'loss', label: 'loss', unit: '', goal },
    prompt: { bestPrompt: 0, promptStartCoefficient: 1, recursivePrompt: 0 },
    recipe: { lr: 0.05 },
    createNetwork(generator: Generator) {
      return new Linear(2, 3, { generator });
    },
    async trainRuns(runs, { checkpointsPerRun }): Promise<RunData[]> {
      return runs.map((run) => {
        let p: Float32Array = Float32Array.from(new Rng(run).normal(9));
        const rows = new Float32Array(checkpointsPerRun * 9);
        const losses: number[] = [];
        for (let k = 0; k < checkpointsPerRun; k++) {
          rows.set(p, k * 9);
          losses.push(metricOf(p));
          p = p.map((v, i) => v - 0.05 * 2 * (v - QUADRATIC_TARGET[i]!));
        }
        return { parameters: rows, iterations: losses.map((_, k) => k), metrics: { loss: losses } };
      });
    },
    async evaluate(params) {
      return params.map((p) => ({ loss: metricOf(p) }));
    },
  };
}
