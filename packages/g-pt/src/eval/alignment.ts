// Prompt alignment (gpt-paper.md §5.2, Gpt/vis.py one_step_prompting and r_squared): for
// each network, 20 prompts evenly spaced from the task's best prompt to
// promptStartCoefficient x its current metric (the order flipped for tasks that maximize),
// one G.pt sample per prompt, and R² per network of the achieved metrics against the
// prompts: 1 - Σ(prompt - achieved)² / (Σ(prompt - mean prompt)² + 1e-8). The score is the
// mean over networks; it is negative when G.pt misses worse than always answering the mean.
import { optimize, type OptimizeProgressEvent, type SamplerOptions } from '../sample/optimize.js';
import type { Task } from '../tasks/task.js';
import type { TrainedGpt } from '../trained-gpt.js';

/** The official number of prompts per network (`dvo_steps`). */
export const ALIGNMENT_PROMPTS = 20;

export interface AlignmentOptions extends SamplerOptions {
  /** Prompts per network. Default 20. */
  readonly prompts?: number;
  /** Override the task's best prompt (the end of the sweep). */
  readonly bestPrompt?: number;
  /** Override the task's prompt start coefficient. */
  readonly promptStartCoefficient?: number;
  readonly seed?: number;
  readonly device?: string;
  readonly maxBatch?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: OptimizeProgressEvent) => void;
}

/** One network's desired-vs-observed curve. */
export interface NetworkAlignment {
  readonly network: number;
  /** The network's measured metric before the update. */
  readonly startMetric: number;
  /** The prompts (desired metrics), in sweep order. */
  readonly prompts: number[];
  /** The metric each sample really reached (observed), one per prompt. */
  readonly achieved: number[];
  readonly r2: number;
}

export interface AlignmentReport {
  readonly task: string;
  readonly metric: string;
  readonly sampler: string;
  /** Mean over networks of the per-network R²: the prompt alignment score. */
  readonly promptAlignment: number;
  /** Median of the per-network R² (robust to one network that goes astray). */
  readonly medianR2: number;
  readonly networks: NetworkAlignment[];
  readonly samplingSeconds: number;
}

/**
 * R² of `predicted` against `targets` exactly as the official r_squared: the 1e-8 keeps a
 * sweep of equal prompts finite. Computed in float64.
 */
export function rSquared(targets: readonly number[], predicted: readonly number[]): number {
  if (targets.length !== predicted.length || targets.length === 0) {
    throw new Error(`rSquared: need equally long non-empty lists, got ${targets.length} targets and ${predicted.length} predictions`);
  }
  const mean = targets.reduce((a, b) => a + b, 0) / targets.length;
  let residual = 0;
  let total = 0;
  targets.forEach((t, i) => {
    residual += (t - predicted[i]!) ** 2;
    total += (t - mean) ** 2;
  });
  return 1 - residual / (total + 1e-8);
}

/** The prompt sweep of one network: `count` values from best to start (flipped when maximizing). */
export function promptSweep(task: Task, startMetric: number, options: { prompts?: number; bestPrompt?: number; promptStartCoefficient?: number } = {}): number[] {
  const count = options.prompts ?? ALIGNMENT_PROMPTS;
  if (!Number.isInteger(count) || count < 2) throw new Error(`alignment: prompts must be an integer >= 2, got ${count}`);
  const best = options.bestPrompt ?? task.prompt.bestPrompt;
  const start = (options.promptStartCoefficient ?? task.prompt.promptStartCoefficient) * startMetric;
  const [from, to] = task.metric.goal === 'maximize' ? [start, best] : [best, start];
  return Array.from({ length: count }, (_, i) => from + ((to - from) * i) / (count - 1));
}

/** Prompt alignment of `trained` on the networks `params` (raw task vectors, e.g. unseen inits). */
export async function promptAlignment(trained: TrainedGpt, task: Task, params: readonly Float32Array[], options: AlignmentOptions = {}): Promise<AlignmentReport> {
  options.onProgress?.({ type: 'measure-start', networks: params.length });
  const startMetrics = await task.evaluate(params, { signal: options.signal });
  const startMetric = startMetrics.map((m, i) => {
    const v = m[task.metric.name];
    if (!Number.isFinite(v)) throw new Error(`alignment: network ${i} has no finite "${task.metric.name}" (got ${v})`);
    return v!;
  });
  const prompts = startMetric.map((m) => promptSweep(task, m, options));
  const result = await optimize(trained, task, params, {
    sampler: options.sampler,
    steps: options.steps,
    eta: options.eta,
    prompt: prompts,
    samples: 1,
    seed: options.seed,
    device: options.device,
    maxBatch: options.maxBatch,
    startMetrics,
    signal: options.signal,
    onProgress: options.onProgress,
  });
  const networks = prompts.map((list, network) => {
    const achieved = result.samples.filter((s) => s.network === network).map((s) => s.metric);
    return { network, startMetric: startMetric[network]!, prompts: list, achieved, r2: rSquared(list, achieved) };
  });
  const r2s = networks.map((n) => n.r2);
  return {
    task: task.name,
    metric: task.metric.name,
    sampler: result.sampler,
    promptAlignment: r2s.reduce((a, b) => a + b, 0) / r2s.length,
    medianR2: median(r2s),
    networks,
    samplingSeconds: result.samplingSeconds,
  };
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
