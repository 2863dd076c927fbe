// The data side of G.pt training (gpt-paper.md §2): the checkpoint dataset checked against
// the task, the train/test split by runs (the last runs are the test split), the openai
// normalization constant estimated on the training runs, the training pair stream
// (forward-in-time pairs, one permutation per pair applied to both checkpoints, runs
// visited in epoch order) and a fixed held-out set of test-split pairs.
import { stat } from 'node:fs/promises';
import { PairSampler, computeOpenaiCoefficient, openaiNormalizer, splitRuns, type CoefficientProgressEvent, type Normalizer, type PairBatch, type RunSplit } from '@gpt/checkpoints';
import { CheckpointDataset } from '@gpt/checkpoints/node';
import type { Task } from '../tasks/task.js';

/** What training needs of a task: its network's layout, permutation symmetry and metric. */
export type TrainTask = Pick<Task, 'name' | 'dataset' | 'tensors' | 'parameterCount' | 'permutation' | 'metric'>;

/** Opens `data` (a dataset folder or an opened dataset) with a clear error for a missing or non-dataset folder. */
export async function openDataset(data: string | CheckpointDataset, where = 'trainGpt'): Promise<CheckpointDataset> {
  if (typeof data !== 'string') return data;
  const info = await stat(data).catch(() => null);
  if (!info) throw new Error(`${where}: data folder "${data}" does not exist (make a dataset with \`gpt data\`)`);
  if (!info.isDirectory()) throw new Error(`${where}: data "${data}" is a file, not a dataset folder`);
  return CheckpointDataset.open(data);
}

/**
 * Checks that `dataset` holds runs of `task`'s network with its metric; the errors name the
 * folder and what differs.
 */
export function checkDatasetForTask(dataset: CheckpointDataset, task: TrainTask, where = 'trainGpt'): void {
  const m = dataset.manifest;
  const what = `${where}: dataset "${dataset.dir}"`;
  if (m.task !== task.dataset) {
    throw new Error(`${what} holds "${m.task}" runs (manifest.json task) but task "${task.name}" trains on "${task.dataset}" datasets`);
  }
  if (m.parameterCount !== task.parameterCount) {
    throw new Error(`${what} has D = ${m.parameterCount} parameters per checkpoint but task "${task.name}" has D = ${task.parameterCount}`);
  }
  const n = Math.max(m.tensors.length, task.tensors.length);
  for (let i = 0; i < n; i++) {
    const [a, b] = [m.tensors[i], task.tensors[i]];
    if (!a || !b || a.name !== b.name || a.shape.join(',') !== b.shape.join(',')) {
      const show = (t: typeof a) => (t ? `${t.name} [${t.shape.join(', ')}]` : '(none)');
      throw new Error(`${what}: tensor ${i} is ${show(a)} but task "${task.name}" has ${show(b)} (the network layouts differ)`);
    }
  }
  if (!m.metrics.includes(task.metric.name)) {
    throw new Error(`${what} records the metrics ${m.metrics.join(', ')} but task "${task.name}" is conditioned on "${task.metric.name}"`);
  }
}

/** The official split: the last `numTestRuns` runs are held out (default: the manifest's). */
export function trainTestSplit(dataset: CheckpointDataset, numTestRuns?: number, where = 'trainGpt'): RunSplit {
  const split = numTestRuns === undefined ? dataset.split : splitRuns(dataset.runs, numTestRuns);
  if (split.train.length === 0) {
    throw new Error(`${where}: dataset "${dataset.dir}" has ${dataset.runs.length} runs and ${split.test.length} are held out for testing: no training runs left`);
  }
  return split;
}

/** The openai constant 0.538 / std over `numSamples` random checkpoints of the training runs (§2.2). */
export async function estimateNormalizer(
  dataset: CheckpointDataset,
  trainRuns: readonly string[],
  numSamples: number,
  options: { seed?: number; signal?: AbortSignal; onProgress?: (e: CoefficientProgressEvent) => void } = {},
): Promise<{ normalizer: Normalizer; std: number }> {
  const { coefficient, std } = await computeOpenaiCoefficient(dataset, { runs: trainRuns, numSamples, seed: options.seed ?? 10, signal: options.signal, onProgress: options.onProgress });
  return { normalizer: openaiNormalizer(coefficient), std };
}

/** The stream of training pairs (§2.4): permutation augmentation on, runs in epoch passes. */
export function trainingPairs(dataset: CheckpointDataset, task: TrainTask, runs: readonly string[], normalizer: Normalizer, seed: number): Promise<PairSampler> {
  return PairSampler.create(dataset, { runs, metric: task.metric.name, seed, normalizer, permutation: task.permutation, runOrder: 'epoch' });
}

/**
 * A fixed set of `count` test-split pairs, drawn once (no permutation, as the official test
 * loader), so that held-out losses at different steps compare the same examples.
 */
export async function heldOutPairs(dataset: CheckpointDataset, task: TrainTask, runs: readonly string[], normalizer: Normalizer, count: number, seed: number): Promise<PairBatch> {
  const sampler = await PairSampler.create(dataset, { runs, metric: task.metric.name, seed, normalizer });
  return sampler.sample(count);
}
