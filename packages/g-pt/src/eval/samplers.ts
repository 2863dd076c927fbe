// Fast sampling, validated: the same networks, the same prompts, several samplers side by
// side (DDPM over every training step as the paper samples, DDIM and respaced DDPM with
// fewer model calls): the metric after one update, the prompt alignment and the sampling
// wall time of each, and its speed-up over the first sampler listed.
import { optimize, type OptimizeProgressEvent, type SamplerName } from '../sample/optimize.js';
import type { Task } from '../tasks/task.js';
import type { TrainedGpt } from '../trained-gpt.js';
import { promptAlignment } from './alignment.js';

export interface SamplerSpec {
  readonly sampler: SamplerName;
  readonly steps: number;
  readonly eta?: number;
}

/** "ddpm-1000", "ddim-50", "ddim-50-eta-1" -> a spec. */
export function parseSamplerSpec(text: string): SamplerSpec {
  const match = /^(ddpm|ddim)-(\d+)(?:-eta-(\d+(?:\.\d+)?))?$/.exec(text.trim());
  if (!match || (match[1] === 'ddpm' && match[3] !== undefined)) {
    throw new Error(`sampler "${text}" is not of the form ddpm-STEPS, ddim-STEPS or ddim-STEPS-eta-X (e.g. ddpm-1000, ddim-50)`);
  }
  const steps = Number(match[2]);
  if (steps < 1) throw new Error(`sampler "${text}": steps must be >= 1`);
  return { sampler: match[1] as SamplerName, steps, ...(match[3] === undefined ? {} : { eta: Number(match[3]) }) };
}

export interface SamplerResult {
  readonly sampler: string;
  /** Mean metric after one update with the best prompt, over all the networks. */
  readonly oneStepMetric: number;
  readonly promptAlignment: number;
  readonly medianR2: number;
  /** Seconds inside the sampling loops (one-step and alignment), not measuring. */
  readonly samplingSeconds: number;
  /** samplingSeconds of the first sampler / this one's. */
  readonly speedup: number;
}

export interface SamplerComparison {
  readonly task: string;
  readonly metric: string;
  readonly networks: number;
  readonly alignmentNetworks: number;
  readonly results: SamplerResult[];
}

export async function compareSamplers(
  trained: TrainedGpt,
  task: Task,
  params: readonly Float32Array[],
  specs: readonly SamplerSpec[],
  options: { alignmentNetworks?: number; seed?: number; signal?: AbortSignal; onProgress?: (event: OptimizeProgressEvent & { sampler?: string }) => void } = {},
): Promise<SamplerComparison> {
  if (specs.length === 0) throw new Error('compareSamplers: give at least one sampler');
  const alignmentNetworks = Math.min(params.length, options.alignmentNetworks ?? params.length);
  // Measured once: every sampler starts from the same metrics.
  const startMetrics = await task.evaluate(params, { signal: options.signal });
  const results: SamplerResult[] = [];
  for (const spec of specs) {
    const common = { sampler: spec.sampler, steps: spec.steps, eta: spec.eta, seed: options.seed, signal: options.signal, onProgress: options.onProgress };
    const one = await optimize(trained, task, params, { ...common, prompt: task.prompt.bestPrompt, startMetrics });
    const alignment = await promptAlignment(trained, task, params.slice(0, alignmentNetworks), common);
    const samplingSeconds = one.samplingSeconds + alignment.samplingSeconds;
    results.push({
      sampler: one.sampler,
      oneStepMetric: one.samples.reduce((a, s) => a + s.metric, 0) / one.samples.length,
      promptAlignment: alignment.promptAlignment,
      medianR2: alignment.medianR2,
      samplingSeconds,
      speedup: (results[0]?.samplingSeconds ?? samplingSeconds) / samplingSeconds,
    });
  }
  return { task: task.name, metric: task.metric.name, networks: params.length, alignmentNetworks, results };
}
