// Recursive prompting (gpt-paper.md §5.3, Gpt/vis.py recursive_prompting): apply G.pt again
// and again, each time from its previous output, conditioned on the metric that output
// really reached, with the task's fixed recursive prompt. Returns each network's metric
// after every update (update 0 is the starting network).
import { optimize, type OptimizeProgressEvent, type SamplerOptions } from '../sample/optimize.js';
import type { Task } from '../tasks/task.js';
import type { TrainedGpt } from '../trained-gpt.js';

export type RecursiveProgressEvent = { readonly type: 'update'; readonly update: number; readonly updates: number } | OptimizeProgressEvent;

export interface RecursiveOptions extends SamplerOptions {
  /** G.pt updates in a row. Default 2 (the official max_steps). */
  readonly updates?: number;
  /** The fixed prompt. Default: the task's recursive prompt. */
  readonly prompt?: number;
  readonly seed?: number;
  readonly device?: string;
  readonly maxBatch?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: RecursiveProgressEvent) => void;
}

export interface RecursiveReport {
  readonly task: string;
  readonly metric: string;
  readonly prompt: number;
  readonly sampler: string;
  /** metrics[n][u]: network n's metric after u updates (u = 0: the start), measured with the task. */
  readonly metrics: number[][];
  /** Mean over networks after each update. */
  readonly meanMetric: number[];
  /** The parameters after the last update, one per network. */
  readonly finalParams: Float32Array[];
}

export async function recursivePrompting(trained: TrainedGpt, task: Task, params: readonly Float32Array[], options: RecursiveOptions = {}): Promise<RecursiveReport> {
  const updates = options.updates ?? 2;
  if (!Number.isInteger(updates) || updates < 1) throw new Error(`recursivePrompting: updates must be a positive integer, got ${updates}`);
  const prompt = options.prompt ?? task.prompt.recursivePrompt;
  let current = [...params];
  let startMetrics: Record<string, number>[] | undefined;
  const metrics: number[][] = params.map(() => []);
  let sampler = '';
  for (let u = 0; u < updates; u++) {
    options.onProgress?.({ type: 'update', update: u + 1, updates });
    const result = await optimize(trained, task, current, {
      sampler: options.sampler,
      steps: options.steps,
      eta: options.eta,
      prompt,
      // A different noise draw per update, reproducible from the seed.
      seed: (options.seed ?? 0) + u,
      device: options.device,
      maxBatch: options.maxBatch,
      startMetrics,
      signal: options.signal,
      onProgress: options.onProgress,
    });
    sampler = result.sampler;
    if (u === 0) result.startMetric.forEach((m, n) => metrics[n]!.push(m));
    result.samples.forEach((s) => metrics[s.network]!.push(s.metric));
    current = result.samples.map((s) => s.params);
    // The next update is conditioned on what this one really reached (measured, not prompted).
    startMetrics = result.samples.map((s) => s.metrics);
  }
  const meanMetric = Array.from({ length: updates + 1 }, (_, u) => metrics.reduce((a, m) => a + m[u]!, 0) / metrics.length);
  return { task: task.name, metric: task.metric.name, prompt, sampler, metrics, meanMetric, finalParams: current };
}
