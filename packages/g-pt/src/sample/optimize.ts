// One G.pt update (gpt-paper.md §4.2, §5.1, §5b "Sampling"): from any parameter vectors,
// measure their metric with the task, ask G.pt for the parameters that reach the prompted
// metric, and measure what the samples really reach. Every (network, prompt, sample) is one
// row of one batched sampling loop, so a prompt sweep over 16 networks is one loop of
// 16 x 20 rows rather than 320 loops.
import { createDiffusion, type SpacedDiffusion } from '@gpt/diffusion';
import { cast, generatorFor, noGrad, randn, tensor, type Tensor } from '@gpt/tensor';
import type { Task } from '../tasks/task.js';
import type { TrainedGpt } from '../trained-gpt.js';

export type SamplerName = 'ddpm' | 'ddim';

/** Prompts: one for every network, or per network one prompt or a list of prompts. */
export type PromptInput = number | readonly (number | readonly number[])[];

export interface SamplerOptions {
  /**
   * 'ddpm': ancestral sampling (the paper's, §4.2); 'ddim': DDIM (Song et al.), deterministic
   * with eta 0. Default 'ddpm'.
   */
  readonly sampler?: SamplerName;
  /**
   * Model calls per sample. Fewer than the training steps respaces the process evenly
   * (DDPM-100 is "respaced DDPM"). Default: every training step for DDPM (1000, the
   * paper's), 50 for DDIM.
   */
  readonly steps?: number;
  /** DDIM's eta (0: deterministic). Only for the DDIM sampler. Default 0. */
  readonly eta?: number;
}

export type OptimizeProgressEvent =
  | { readonly type: 'measure-start'; readonly networks: number }
  | { readonly type: 'sample-step'; readonly batch: number; readonly batches: number; readonly step: number; readonly steps: number }
  | { readonly type: 'measure-samples'; readonly samples: number };

export interface OptimizeOptions extends SamplerOptions {
  /** The prompted metric ℓ' (raw: % error, nats, return). Default: the task's best prompt. */
  readonly prompt?: PromptInput;
  /** Samples per (network, prompt). Default 1. */
  readonly samples?: number;
  /** Seed of the initial noise (and of DDPM's / DDIM-eta's step noise). Default 0. */
  readonly seed?: number;
  /** Device of the sampling tensors. Default: the model's device. */
  readonly device?: string;
  /**
   * The networks' current metric, when the caller has just measured it (recursive prompting
   * does). Default: measured with task.evaluate, as the paper does on the fly (§5.1).
   */
  readonly startMetrics?: readonly Record<string, number>[];
  /** Most rows in one sampling loop (memory bound). Default 1024. */
  readonly maxBatch?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: OptimizeProgressEvent) => void;
}

/** One generated parameter vector. */
export interface OptimizedSample {
  /** Index of the starting network in `params`. */
  readonly network: number;
  /** The prompted metric. */
  readonly prompt: number;
  /** Index among the samples of this (network, prompt). */
  readonly sample: number;
  /** The generated raw (un-normalized) flat parameters [D]. */
  readonly params: Float32Array;
  /** Every metric task.evaluate reports for it. */
  readonly metrics: Record<string, number>;
  /** metrics[task.metric.name]: what the sample really reaches. */
  readonly metric: number;
}

export interface OptimizeResult {
  /** Network-major, then prompt, then sample. */
  readonly samples: OptimizedSample[];
  /** The metrics of each starting network (what G.pt was conditioned on). */
  readonly startMetrics: Record<string, number>[];
  /** The conditioned metric of each starting network. */
  readonly startMetric: number[];
  /** The sampler that ran, e.g. "ddim-50". */
  readonly sampler: string;
  /** Seconds spent in the sampling loop alone (not measuring). */
  readonly samplingSeconds: number;
}

/** What G.pt's denoiser needs besides x_t and t: the starting point and both metrics. */
interface Condition {
  readonly xPrev: Tensor; // [B, D] normalized starting parameters
  readonly lossTarget: Tensor; // [B]
  readonly lossPrev: Tensor; // [B]
}

/**
 * One G.pt update of each vector of `params` (raw task parameters, as task.evaluate takes
 * them) for each prompt; returns the generated vectors with their measured metrics.
 */
export async function optimize(trained: TrainedGpt, task: Task, params: readonly Float32Array[], options: OptimizeOptions = {}): Promise<OptimizeResult> {
  checkCompatible(trained, task, params);
  const samplesPer = options.samples ?? 1;
  if (!Number.isInteger(samplesPer) || samplesPer < 1) throw new Error(`optimize: samples must be a positive integer, got ${samplesPer}`);
  const prompts = resolvePrompts(options.prompt ?? task.prompt.bestPrompt, params.length);
  options.signal?.throwIfAborted();

  const startMetrics = options.startMetrics ? checkStartMetrics(options.startMetrics, params.length, task) : await measureStart(task, params, options);
  const startMetric = startMetrics.map((m) => m[task.metric.name]!);

  const rows: { network: number; prompt: number; sample: number }[] = [];
  prompts.forEach((list, network) => {
    for (const prompt of list) for (let sample = 0; sample < samplesPer; sample++) rows.push({ network, prompt, sample });
  });
  const coefficient = trained.normalizationCoefficient;
  const xPrevRows = rows.map((r) => scaled(params[r.network]!, coefficient));
  const sampling = await sampleRows(
    trained,
    xPrevRows,
    rows.map((r) => r.prompt),
    rows.map((r) => startMetric[r.network]!),
    options,
  );
  const generated = sampling.samples.map((x) => scaled(x, 1 / coefficient));

  options.signal?.throwIfAborted();
  options.onProgress?.({ type: 'measure-samples', samples: generated.length });
  const measured = await task.evaluate(generated, { signal: options.signal });
  const samples = rows.map((r, i) => ({ ...r, params: generated[i]!, metrics: measured[i]!, metric: measured[i]![task.metric.name]! }));
  return { samples, startMetrics, startMetric, sampler: sampling.sampler, samplingSeconds: sampling.seconds };
}

/**
 * The sampling loop alone, in G.pt's normalized space: each row has its starting vector
 * (already multiplied by the coefficient), its target and its starting metric. Returns the
 * normalized samples. Exposed for evaluations that prepare their own rows (latent walks).
 */
export async function sampleRows(
  trained: TrainedGpt,
  xPrevRows: readonly Float32Array[],
  lossTargets: readonly number[],
  lossPrevs: readonly number[],
  options: SamplerOptions & { seed?: number; device?: string; maxBatch?: number; noise?: readonly Float32Array[]; signal?: AbortSignal; onProgress?: (event: OptimizeProgressEvent) => void } = {},
): Promise<{ samples: Float32Array[]; sampler: string; seconds: number }> {
  const { diffusion, name } = samplerDiffusion(trained, options);
  const eta = options.eta ?? 0;
  const maxBatch = options.maxBatch ?? 1024;
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new Error(`optimize: maxBatch must be a positive integer, got ${maxBatch}`);
  if (options.noise && options.noise.length !== xPrevRows.length) throw new Error(`optimize: noise has ${options.noise.length} rows, expected ${xPrevRows.length}`);
  const device = options.device ?? modelDevice(trained);
  const generator = generatorFor({ seed: options.seed ?? 0 }, 'optimize');
  const D = trained.model.parameterDim;
  const model = (x: Tensor, t: Tensor, cond: Condition): Tensor =>
    noGrad(() => {
      const steps = cast(t, 'float32'); // [B]: the model embeds t as a float scalar
      try {
        return trained.model.forward(x, steps, cond.lossTarget, cond.lossPrev, cond.xPrev); // [B, D]
      } finally {
        steps.dispose();
      }
    });

  const out: Float32Array[] = [];
  const batches = Math.ceil(xPrevRows.length / maxBatch);
  const started = performance.now();
  for (let b = 0; b < batches; b++) {
    const lo = b * maxBatch;
    const hi = Math.min(xPrevRows.length, lo + maxBatch);
    const n = hi - lo;
    const cond: Condition = {
      xPrev: tensor(concatRows(xPrevRows.slice(lo, hi), D), { shape: [n, D], device }), // [n, D]
      lossTarget: tensor(Float32Array.from(lossTargets.slice(lo, hi)), { device }), // [n]
      lossPrev: tensor(Float32Array.from(lossPrevs.slice(lo, hi)), { device }), // [n]
    };
    // x_T (and the step noise) of every batch from the one seeded generator, batch after batch.
    const noise = options.noise
      ? tensor(concatRows(options.noise.slice(lo, hi), D), { shape: [n, D], device })
      : randn([n, D], { generator, device }); // [n, D] x_T
    try {
      const loopOptions = { cond, noise, generator, signal: options.signal };
      const steps = options.sampler === 'ddim' ? diffusion.ddimSampleLoopProgressive(model, [n, D], { ...loopOptions, eta }) : diffusion.pSampleLoopProgressive(model, [n, D], loopOptions);
      let final: Tensor | null = null;
      for await (const step of steps) {
        options.onProgress?.({ type: 'sample-step', batch: b, batches, step: step.index + 1, steps: step.total });
        if (step.index === step.total - 1) final = step.sample.detach();
      }
      if (!final) throw new Error('optimize: the sampling loop ended without a sample');
      const values = (await final.data()) as Float32Array;
      final.dispose();
      for (let i = 0; i < n; i++) out.push(values.slice(i * D, (i + 1) * D));
    } finally {
      noise.dispose();
      for (const t of Object.values(cond)) t.dispose();
    }
  }
  return { samples: out, sampler: name, seconds: (performance.now() - started) / 1000 };
}

/** The diffusion a sampler runs on: the training process, respaced to `steps` model calls. */
export function samplerDiffusion(trained: TrainedGpt, options: SamplerOptions): { diffusion: SpacedDiffusion; name: string } {
  const sampler = options.sampler ?? 'ddpm';
  if (sampler !== 'ddpm' && sampler !== 'ddim') throw new Error(`optimize: sampler must be "ddpm" or "ddim", got "${String(sampler)}"`);
  const T = trained.diffusionSteps;
  const steps = options.steps ?? (sampler === 'ddpm' ? T : Math.min(50, T));
  if (!Number.isInteger(steps) || steps < 1 || steps > T) throw new Error(`optimize: steps must be an integer in [1, ${T}] (the training steps), got ${steps}`);
  const eta = options.eta ?? 0;
  if (sampler === 'ddpm' && options.eta !== undefined) throw new Error('optimize: eta is a DDIM option; the DDPM sampler takes none');
  if (!(eta >= 0)) throw new Error(`optimize: eta must be >= 0, got ${eta}`);
  // DDIM's usual integer stride when it divides the process evenly, else even sections.
  const respacing = steps === T ? '' : sampler === 'ddim' && T % steps === 0 ? `ddim${steps}` : [steps];
  const diffusion = createDiffusion({ steps: T, noiseSchedule: trained.noiseSchedule, predictXstart: trained.config.predictXstart, timestepRespacing: respacing });
  const name = sampler === 'ddim' ? `ddim-${steps}${eta > 0 ? ` (eta ${eta})` : ''}` : `ddpm-${steps}`;
  return { diffusion, name };
}

/** The prompts of each network: [[p]] per network from one number, [p_i] from one per network. */
export function resolvePrompts(prompt: PromptInput, networks: number): number[][] {
  let lists: number[][];
  if (typeof prompt === 'number') lists = Array.from({ length: networks }, () => [prompt]);
  else {
    if (prompt.length !== networks) throw new Error(`optimize: prompt has ${prompt.length} entries, expected one per network (${networks})`);
    lists = prompt.map((p) => (typeof p === 'number' ? [p] : [...p]));
  }
  lists.forEach((list, i) => {
    if (list.length === 0) throw new Error(`optimize: network ${i} has no prompt`);
    const bad = list.find((p) => !Number.isFinite(p));
    if (bad !== undefined) throw new Error(`optimize: prompt of network ${i} must be finite, got ${bad}`);
  });
  return lists;
}

function checkCompatible(trained: TrainedGpt, task: Task, params: readonly Float32Array[]): void {
  if (trained.task !== task.name) throw new Error(`optimize: the G.pt model was trained for task "${trained.task}", not "${task.name}"`);
  const D = task.parameterCount;
  if (trained.model.parameterDim !== D) throw new Error(`optimize: the G.pt model generates ${trained.model.parameterDim} parameters, task "${task.name}" has ${D}`);
  if (params.length === 0) throw new Error('optimize: params is empty; give at least one parameter vector');
  params.forEach((p, i) => {
    if (!(p instanceof Float32Array) || p.length !== D) throw new Error(`optimize: params[${i}] must be a Float32Array of ${D} values (task "${task.name}"), got ${p instanceof Float32Array ? p.length : typeof p} values`);
  });
  if (!(trained.normalizationCoefficient > 0)) throw new Error(`optimize: normalizationCoefficient must be > 0, got ${trained.normalizationCoefficient}`);
}

async function measureStart(task: Task, params: readonly Float32Array[], options: OptimizeOptions): Promise<Record<string, number>[]> {
  options.onProgress?.({ type: 'measure-start', networks: params.length });
  return task.evaluate(params, { signal: options.signal });
}

function checkStartMetrics(metrics: readonly Record<string, number>[], networks: number, task: Task): Record<string, number>[] {
  if (metrics.length !== networks) throw new Error(`optimize: startMetrics has ${metrics.length} entries, expected ${networks}`);
  metrics.forEach((m, i) => {
    if (!Number.isFinite(m[task.metric.name])) throw new Error(`optimize: startMetrics[${i}] has no finite "${task.metric.name}"`);
  });
  return metrics.map((m) => ({ ...m }));
}

function modelDevice(trained: TrainedGpt): string {
  const devices = new Set(trained.model.stateDevices().map(([, d]) => d));
  if (devices.size !== 1) throw new Error(`optimize: the G.pt model lives on several devices (${[...devices].join(', ')}); move it to one`);
  return [...devices][0]!;
}

function scaled(v: Float32Array, factor: number): Float32Array {
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * factor;
  return out;
}

function concatRows(rows: readonly Float32Array[], D: number): Float32Array {
  const out = new Float32Array(rows.length * D);
  rows.forEach((r, i) => out.set(r, i * D));
  return out;
}
