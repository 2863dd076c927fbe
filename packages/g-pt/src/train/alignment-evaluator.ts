// Model selection by prompt alignment during training (gpt-paper.md §4.3, §5.1-5.2): every
// so many steps the EMA model optimizes the initial checkpoints (iteration 0, fresh random
// initializations) of the first test-split runs over a prompt sweep, and the run keeps the
// checkpoint with the best mean R². The sampling and the score are the evaluation's
// (eval/alignment.ts); a fast sampler (DDIM 50 by default) keeps it affordable.
import { CheckpointDataset } from '@gpt/checkpoints/node';
import { promptAlignment, type AlignmentOptions } from '../eval/alignment.js';
import type { Task } from '../tasks/task.js';
import type { EvaluateCallback } from './trainer.js';
import { openDataset, trainTestSplit } from './training-data.js';

export interface AlignmentEvaluatorOptions extends Omit<AlignmentOptions, 'signal' | 'onProgress'> {
  /** Test-split networks optimized per evaluation (official test configs: 16 per GPU for MNIST and Cartpole). Default 16. */
  readonly networks?: number;
  /** The split (default: the dataset's). */
  readonly numTestRuns?: number;
}

/**
 * An `evaluate` callback for trainGpt: prompt alignment of the EMA model on the first
 * checkpoints of the first `networks` test runs of `data`, with the sampler of `options`
 * (default DDIM, 50 steps) and a fixed seed, so scores at different steps compare.
 */
export function promptAlignmentEvaluator(task: Task, data: string | CheckpointDataset, options: AlignmentEvaluatorOptions = {}): EvaluateCallback {
  const count = options.networks ?? 16;
  if (!(Number.isSafeInteger(count) && count > 0)) throw new Error(`promptAlignmentEvaluator: networks must be a positive integer, got ${count}`);
  let networks: Promise<Float32Array[]> | null = null;
  const load = async (): Promise<Float32Array[]> => {
    const dataset = await openDataset(data, 'promptAlignmentEvaluator');
    try {
      const { test } = trainTestSplit(dataset, options.numTestRuns, 'promptAlignmentEvaluator');
      if (test.length === 0) throw new Error(`promptAlignmentEvaluator: dataset "${dataset.dir}" has no test runs to evaluate on`);
      return await Promise.all(test.slice(0, count).map((run) => dataset.readCheckpoint(run, 0)));
    } finally {
      if (typeof data === 'string') await dataset.close();
    }
  };
  const { networks: _n, numTestRuns: _t, ...alignment } = options;
  return async (trained, { signal }) => {
    networks ??= load();
    const report = await promptAlignment(trained, task, await networks, { sampler: 'ddim', steps: 50, seed: 0, ...alignment, signal });
    return { score: report.promptAlignment, metrics: { medianR2: report.medianR2, samplingSeconds: report.samplingSeconds } };
  };
}
