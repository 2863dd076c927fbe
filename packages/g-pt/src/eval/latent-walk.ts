// Latent walk (gpt-paper.md §5.5; official playground.py / latent_walk_helpers.py): DDIM
// with eta 0 is a deterministic map from the initial noise x_T to a parameter vector, so
// walking x_T along great circles between a few Gaussian keyframes, with the starting
// network, its metric and the prompt fixed, shows how the generated parameters move with
// the noise alone. The walk loops (the last keyframe slerps back to the first). For a
// network whose first tensor is a conv layer on RGB input (the CIFAR-10 CNN's 16 3x3
// filters) each frame renders the filters as an image grid; for every task the metric of
// each frame is measured and plotted.
import { imageGrid, type GridImage } from '../plot/image-grid.js';
import { lineChart } from '../plot/line-chart.js';
import { sampleRows, type OptimizeProgressEvent } from '../sample/optimize.js';
import { euclidean } from './landscape.js';
import type { Task } from '../tasks/task.js';
import type { TrainedGpt } from '../trained-gpt.js';
import { Generator } from '@gpt/tensor';

export type LatentWalkProgressEvent = { readonly type: 'sample'; readonly event: OptimizeProgressEvent } | { readonly type: 'measure'; readonly frames: number };

export interface LatentWalkOptions {
  /** The prompted metric. Default: the task's best prompt. */
  readonly prompt?: number;
  /** The starting network's metric fed to G.pt. Default: measured with task.evaluate. */
  readonly startMetric?: number;
  /** Gaussian keyframes of x_T (the official walk uses 16). Default 4. */
  readonly keyframes?: number;
  /** Frames from one keyframe to the next (the official walk uses 120). Default 8. */
  readonly framesPerSegment?: number;
  /** DDIM steps (eta 0). Default 50; the official walk runs all training steps. */
  readonly steps?: number;
  /** Seed of the keyframes. Default 0. */
  readonly seed?: number;
  readonly device?: string;
  readonly maxBatch?: number;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: LatentWalkProgressEvent) => void;
}

export interface LatentWalkFrame {
  /** Segment k walks from keyframe k to keyframe k + 1 (mod keyframes). */
  readonly segment: number;
  /** Slerp weight within the segment, in [0, 1). */
  readonly weight: number;
  readonly metric: number;
  readonly metrics: Record<string, number>;
  /** Raw-space distance to the previous frame (the first frame: to the last, closing the loop). */
  readonly stepDistance: number;
}

export interface LatentWalkReport {
  readonly task: string;
  readonly metric: { readonly name: string; readonly label: string; readonly unit: string; readonly goal: 'minimize' | 'maximize' };
  readonly prompt: number;
  readonly startMetric: number;
  readonly sampler: string;
  readonly keyframes: number;
  readonly framesPerSegment: number;
  readonly frames: readonly LatentWalkFrame[];
  /** The tensor rendered as filters, when the task has one (see firstLayerFilters). */
  readonly filterTensor: string | null;
}

export interface LatentWalkResult {
  readonly report: LatentWalkReport;
  /** The raw parameter vector of every frame, in walk order. */
  readonly samples: Float32Array[];
}

/** Walks the initial noise of DDIM (eta 0) around a loop of keyframes for one starting network. */
export async function latentWalk(trained: TrainedGpt, task: Task, params: Float32Array, options: LatentWalkOptions = {}): Promise<LatentWalkResult> {
  const D = task.parameterCount;
  if (trained.task !== task.name) throw new Error(`latentWalk: the G.pt model was trained for task "${trained.task}", not "${task.name}"`);
  if (!(params instanceof Float32Array) || params.length !== D) throw new Error(`latentWalk: params must be a Float32Array of ${D} values (task "${task.name}")`);
  const keyframes = options.keyframes ?? 4;
  if (!Number.isInteger(keyframes) || keyframes < 2) throw new Error(`latentWalk: keyframes must be an integer >= 2, got ${keyframes}`);
  const perSegment = options.framesPerSegment ?? 8;
  if (!Number.isInteger(perSegment) || perSegment < 1) throw new Error(`latentWalk: framesPerSegment must be a positive integer, got ${perSegment}`);
  const prompt = options.prompt ?? task.prompt.bestPrompt;
  const startMetric = options.startMetric ?? (await task.evaluate([params], { signal: options.signal }))[0]![task.metric.name]!;
  if (!Number.isFinite(startMetric)) throw new Error(`latentWalk: the starting network's ${task.metric.name} is ${startMetric}; G.pt needs a finite metric`);

  const generator = new Generator(options.seed ?? 0);
  const keys = Array.from({ length: keyframes }, () => generator.normal(D));
  const noise: Float32Array[] = [];
  const positions: { segment: number; weight: number }[] = [];
  for (let segment = 0; segment < keyframes; segment++) {
    for (let f = 0; f < perSegment; f++) {
      const weight = f / perSegment;
      noise.push(Float32Array.from(slerp(keys[segment]!, keys[(segment + 1) % keyframes]!, weight)));
      positions.push({ segment, weight });
    }
  }
  const coefficient = trained.normalizationCoefficient;
  const xPrev = Float32Array.from(params, (x) => x * coefficient);
  const sampled = await sampleRows(
    trained,
    noise.map(() => xPrev),
    noise.map(() => prompt),
    noise.map(() => startMetric),
    {
      sampler: 'ddim',
      eta: 0,
      steps: options.steps ?? Math.min(50, trained.diffusionSteps),
      noise,
      device: options.device,
      maxBatch: options.maxBatch,
      signal: options.signal,
      onProgress: (event) => options.onProgress?.({ type: 'sample', event }),
    },
  );
  const samples = sampled.samples.map((x) => Float32Array.from(x, (v) => v / coefficient));
  options.onProgress?.({ type: 'measure', frames: samples.length });
  const measured = await task.evaluate(samples, { signal: options.signal });
  const frames = positions.map((p, i) => ({
    ...p,
    metric: measured[i]![task.metric.name] ?? Number.NaN,
    metrics: measured[i]!,
    stepDistance: euclidean(samples[i]!, samples[(i + samples.length - 1) % samples.length]!),
  }));
  return {
    report: {
      task: task.name,
      metric: { ...task.metric },
      prompt,
      startMetric,
      sampler: sampled.sampler,
      keyframes,
      framesPerSegment: perSegment,
      frames,
      filterTensor: firstLayerFilterTensor(task)?.name ?? null,
    },
    samples,
  };
}

/** The metric along the walk (one point per frame; a keyframe every framesPerSegment frames), with the start and the prompt as reference lines. */
export async function latentWalkPlot(report: LatentWalkReport, options: { title?: string } = {}): Promise<string> {
  const unit = report.metric.unit ? ` (${report.metric.unit})` : '';
  return lineChart({
    title: options.title ?? `${report.task}: ${report.metric.label} along a DDIM latent walk (${report.sampler}, prompt ${report.prompt})`,
    xTitle: 'frame',
    yTitle: `${report.metric.label}${unit}`,
    series: [{ name: 'generated network', points: report.frames.map((f, i) => ({ x: i, y: f.metric })) }],
    references: [
      { label: `starting network (${round(report.startMetric)})`, y: report.startMetric },
      { label: `prompt (${report.prompt})`, y: report.prompt },
    ],
  });
}

/**
 * One SVG per frame showing the first-layer filters (each filter min-max scaled on its own,
 * as the official walk's make_grid(normalize, scale_each) does); null when the task's first
 * tensor is not a conv on RGB input.
 */
export async function latentWalkFilterFrames(task: Task, result: LatentWalkResult, options: { pixelSize?: number } = {}): Promise<string[] | null> {
  if (!firstLayerFilterTensor(task)) return null;
  const frames: string[] = [];
  for (const [i, sample] of result.samples.entries()) {
    const frame = result.report.frames[i]!;
    frames.push(
      await imageGrid({
        title: `frame ${i + 1}/${result.samples.length}: ${result.report.metric.label} ${round(frame.metric)}`,
        images: firstLayerFilters(task, sample)!,
        columns: 8,
        pixelSize: options.pixelSize ?? 12,
      }),
    );
  }
  return frames;
}

/** The task's first tensor when it is a conv weight on RGB input: [C_out, 3, kh, kw]. */
export function firstLayerFilterTensor(task: Pick<Task, 'tensors'>): { name: string; shape: readonly number[] } | null {
  const first = task.tensors[0];
  return first && first.shape.length === 4 && first.shape[1] === 3 ? first : null;
}

/** The first layer's filters of a flat vector as RGB images [kh, kw, 3], each min-max scaled to [0, 1]. */
export function firstLayerFilters(task: Pick<Task, 'tensors'>, params: Float32Array): GridImage[] | null {
  const tensor = firstLayerFilterTensor(task);
  if (!tensor) return null;
  const [outChannels, channels, kh, kw] = tensor.shape as [number, number, number, number];
  const images: GridImage[] = [];
  for (let o = 0; o < outChannels; o++) {
    const base = o * channels * kh * kw; // the weight is [C_out, C_in, kh, kw], first in the flat vector
    const pixels = new Float32Array(kh * kw * 3);
    for (let c = 0; c < 3; c++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) pixels[(y * kw + x) * 3 + c] = params[base + (c * kh + y) * kw + x]!;
    let low = Infinity;
    let high = -Infinity;
    for (const v of pixels) {
      low = Math.min(low, v);
      high = Math.max(high, v);
    }
    const span = high - low;
    for (let i = 0; i < pixels.length; i++) pixels[i] = span > 0 ? (pixels[i]! - low) / span : 0.5;
    images.push({ title: `filter ${o}`, height: kh, width: kw, channels: 3, pixels });
  }
  return images;
}

/**
 * Spherical linear interpolation between two vectors (float64): the path stays on the
 * great circle through them, where Gaussian noise vectors live (their norm ~ sqrt(D)).
 * Nearly parallel vectors fall back to linear interpolation.
 */
export function slerp(low: ArrayLike<number>, high: ArrayLike<number>, weight: number): Float64Array {
  const n = low.length;
  if (high.length !== n) throw new Error(`slerp: vectors of ${n} and ${high.length} values`);
  let dot = 0;
  let nl = 0;
  let nh = 0;
  for (let i = 0; i < n; i++) {
    dot += low[i]! * high[i]!;
    nl += low[i]! * low[i]!;
    nh += high[i]! * high[i]!;
  }
  const cosine = Math.min(1, Math.max(-1, dot / Math.sqrt(nl * nh)));
  const omega = Math.acos(cosine);
  const so = Math.sin(omega);
  const out = new Float64Array(n);
  if (!(so > 1e-8)) {
    for (let i = 0; i < n; i++) out[i] = (1 - weight) * low[i]! + weight * high[i]!;
    return out;
  }
  const a = Math.sin((1 - weight) * omega) / so;
  const b = Math.sin(weight * omega) / so;
  for (let i = 0; i < n; i++) out[i] = a * low[i]! + b * high[i]!;
  return out;
}


function round(x: number): string {
  return Number.isFinite(x) ? x.toPrecision(4) : String(x);
}
