// Diffusion on a 2-D toy: a small MLP denoiser (@gpt/nn Linear/Sequential, AdamW, EMA) learns
// a mixture of 8 Gaussians with @gpt/diffusion's trainingLosses (T = 1000, linear betas,
// x_0 prediction and FIXED_LARGE variance, as G.pt; the x_0 MSE weighted per timestep, see
// denoiser.ts), then samples with DDPM over all 1000 steps and with DDIM over 50 respaced
// steps. Reports mode coverage and the per-mode weight error of each sampler and writes an
// SVG scatter plot of data vs samples.
//
// Run from the repository root (--help lists the options):
//   pnpm example diffusion-2d [--steps N] [--samples N] [--hidden H] [--seed S] [--out FILE]

import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  GaussianDiffusion,
  getNamedBetaSchedule,
  ModelMeanType,
  ModelVarType,
  SpacedDiffusion,
  spaceTimesteps,
  UniformSampler,
  type DiffusionModel,
  type GaussianDiffusionOptions,
  type SampleStep,
} from '@gpt/diffusion';
import { defineCli, describeRuntime, runCli, type CliValues } from '@gpt/g-pt/cli';
import { AdamW, applyLrSchedule, cosineDecay, EMA } from '@gpt/nn';
import { Generator, memory, tidy, type Tensor } from '@gpt/tensor';
import { Denoiser } from './denoiser.js';
import { eightGaussians, modeReport, sampleData, type EightGaussians, type ModeReport } from './eight-gaussians.js';
import { scatterSvg } from './scatter-svg.js';

export interface RunOptions {
  /** optimizer steps (default 4000) */
  steps?: number;
  batchSize?: number;
  hidden?: number;
  lr?: number;
  /** samples drawn per sampler (default 2000) */
  samples?: number;
  seed?: number;
  /** where to write the SVG; nothing is written when omitted */
  out?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface SamplerResult {
  name: string;
  seconds: number;
  report: ModeReport;
  points: Float32Array;
}

export interface RunReport {
  trainSeconds: number;
  finalLoss: number;
  data: ModeReport;
  samplers: SamplerResult[];
}

export async function run(options: RunOptions = {}): Promise<RunReport> {
  const steps = options.steps ?? 4000;
  const batchSize = options.batchSize ?? 256;
  const samples = options.samples ?? 2000;
  const log = options.log ?? (() => {});
  const generator = new Generator(options.seed ?? 0);
  const data = eightGaussians();
  const diffusionOptions: GaussianDiffusionOptions = {
    betas: getNamedBetaSchedule('linear', 1000),
    modelMeanType: ModelMeanType.START_X,
    modelVarType: ModelVarType.FIXED_LARGE,
  };
  const diffusion = new GaussianDiffusion(diffusionOptions);
  // Per-axis std of the data: radius / sqrt(2) from the ring, plus each mode's own spread.
  const dataStd = Math.sqrt(2 + data.std ** 2);
  const denoiserOptions = { hidden: options.hidden ?? 128, embedDim: 16, alphasCumprod: diffusion.alphasCumprod, dataStd, generator };
  const model = new Denoiser(denoiserOptions);
  const averaged = new Denoiser(denoiserOptions);
  try {
    const { seconds: trainSeconds, finalLoss } = await train(model, diffusion, data, { steps, batchSize, lr: options.lr ?? 2e-3, generator, signal: options.signal, log, averaged });
    const denoise: DiffusionModel = (x, t) => averaged.forward(x, t);
    const results: SamplerResult[] = [];
    const ddpm = (shape: number[]) => diffusion.pSampleLoopProgressive(denoise, shape, { generator, signal: options.signal });
    results.push(await drawSamples('DDPM, 1000 steps', ddpm, samples, data, log));
    const ddim50 = new SpacedDiffusion(spaceTimesteps(1000, 'ddim50'), diffusionOptions);
    const ddim = (shape: number[]) => ddim50.ddimSampleLoopProgressive(denoise, shape, { generator, signal: options.signal });
    results.push(await drawSamples('DDIM (eta 0), 50 steps', ddim, samples, data, log));
    const reference = sampleData(data, samples, generator);
    const referencePoints = reference.dataSync() as Float32Array;
    reference.dispose();
    if (options.out) {
      const svg = scatterSvg(
        [
          { title: `data (${samples} points)`, points: referencePoints, color: '#555555' },
          { title: results[0]!.name, points: results[0]!.points, color: '#1f6fd1' },
          { title: results[1]!.name, points: results[1]!.points, color: '#d1491f' },
        ],
        { extent: 3, marks: data.centres, caption: `8-Gaussian mixture (crosses: mode centres); ${steps} training steps, x_0 prediction` },
      );
      writeFileSync(options.out, svg);
      log(`wrote ${options.out}`);
    }
    return { trainSeconds, finalLoss, data: modeReport(data, referencePoints), samplers: results };
  } finally {
    model.dispose();
    averaged.dispose();
  }
}

interface TrainSettings {
  steps: number;
  batchSize: number;
  lr: number;
  generator: Generator;
  signal?: AbortSignal;
  log: (line: string) => void;
  /** receives the EMA of the weights at the end */
  averaged: Denoiser;
}

async function train(model: Denoiser, diffusion: GaussianDiffusion, data: EightGaussians, s: TrainSettings): Promise<{ seconds: number; finalLoss: number }> {
  const optimizer = new AdamW(model.parameters(), { lr: s.lr, weightDecay: 0 });
  const ema = new EMA(model, 0.995);
  const sampler = new UniformSampler(diffusion);
  // Cosine decay of the learning rate to 0 over the run, evaluated per step.
  const schedule = cosineDecay(s.steps);
  const denoise: DiffusionModel = (x, t) => model.forward(x, t);
  const start = performance.now();
  let windowLoss = 0;
  let finalLoss = Number.NaN;
  const report = Math.max(1, Math.floor(s.steps / 10));
  try {
    for (let step = 1; step <= s.steps; step++) {
      s.signal?.throwIfAborted();
      applyLrSchedule(optimizer, schedule, step - 1);
      const x0 = sampleData(data, s.batchSize, s.generator); // [B, 2]
      const { timesteps, weights } = sampler.sample(s.batchSize, { generator: s.generator });
      const { loss } = await diffusion.trainingLosses(denoise, x0, timesteps, { generator: s.generator }); // [B]
      // Unbiasing weights of the timestep sampler times the denoiser's per-timestep loss weights.
      const total = tidy(() => loss.mul(weights).mul(model.lossWeights(timesteps)).mean());
      optimizer.zeroGrad();
      total.backward();
      optimizer.step();
      ema.update(model);
      windowLoss += total.item();
      for (const t of [x0, timesteps, weights, loss, total]) t.dispose();
      if (step % report === 0) {
        finalLoss = windowLoss / report;
        s.log(`step ${String(step).padStart(6)}  loss ${finalLoss.toFixed(4)}  ${((performance.now() - start) / 1000).toFixed(1)} s`);
        windowLoss = 0;
      }
    }
    ema.copyTo(s.averaged);
  } finally {
    optimizer.zeroGrad();
    optimizer.dispose();
    ema.dispose();
  }
  return { seconds: (performance.now() - start) / 1000, finalLoss };
}

async function drawSamples(
  name: string,
  loop: (shape: number[]) => AsyncGenerator<SampleStep>,
  count: number,
  data: EightGaussians,
  log: (line: string) => void,
): Promise<SamplerResult> {
  const start = performance.now();
  let final: Tensor | null = null;
  for await (const step of loop([count, 2])) {
    // The progress API: one event per step; log about ten of them.
    if ((step.index + 1) % Math.max(1, Math.floor(step.total / 10)) === 0) log(`  ${name}: step ${step.index + 1}/${step.total} (t = ${step.timestep})`);
    if (step.index === step.total - 1) final = step.sample.detach();
  }
  const points = final!.dataSync() as Float32Array;
  final!.dispose();
  const seconds = (performance.now() - start) / 1000;
  return { name, seconds, report: modeReport(data, points), points };
}

function formatReport(name: string, r: ModeReport, seconds?: number): string {
  const weights = r.weights.map((w) => w.toFixed(3)).join(' ');
  const time = seconds === undefined ? '' : `  ${seconds.toFixed(1)} s`;
  return (
    `${name.padEnd(24)} modes ${r.covered}/8  max |w-1/8| ${r.maxWeightError.toFixed(4)}  mean |w-1/8| ${r.meanWeightError.toFixed(4)}  ` +
    `off-mode ${(100 * r.offMode).toFixed(1)}%  spread ${r.rmsSpread.toFixed(3)}${time}\n${''.padEnd(24)} weights ${weights}`
  );
}

export const cli = defineCli({
  name: 'pnpm example diffusion-2d',
  summary: 'A small MLP denoiser trained on a mixture of 8 Gaussians with @gpt/diffusion, sampled with DDPM-1000 and DDIM-50.',
  options: {
    steps: { type: 'integer', default: 4000, min: 1, description: 'optimizer steps' },
    samples: { type: 'integer', default: 2000, min: 1, description: 'samples drawn per sampler' },
    hidden: { type: 'integer', default: 128, min: 1, description: 'width of the denoiser MLP' },
    seed: { type: 'integer', default: 0, min: 0, description: 'seed of the initialization, batches and sampling noise' },
    out: { type: 'string', placeholder: 'FILE', description: 'SVG scatter plot of data vs samples (default: diffusion-2d.svg in the temporary folder)' },
  },
});

export async function main(options: CliValues<typeof cli.options>): Promise<void> {
  const { steps, samples, hidden, seed } = options;
  const out = options.out ?? join(tmpdir(), 'diffusion-2d.svg');
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  console.log(`8-Gaussian mixture (radius 2, std 0.1); MLP 18 -> ${hidden} -> ${hidden} -> ${hidden} -> 2 (ReLU); AdamW lr 2e-3 cosine, batch 256, ${steps} steps; EMA 0.995`);
  console.log(`diffusion: T = 1000, linear betas, x_0 prediction (preconditioned MLP), FIXED_LARGE; seed ${seed}`);
  console.log(describeRuntime());
  const started = performance.now();
  const result = await run({ steps, samples, hidden, seed, out, signal: controller.signal, log: (line) => console.log(line) });
  process.off('SIGINT', onSignal);
  console.log(`trained in ${result.trainSeconds.toFixed(1)} s (final loss ${result.finalLoss.toFixed(4)})`);
  console.log(formatReport('data (reference draw)', result.data));
  for (const s of result.samplers) console.log(formatReport(s.name, s.report, s.seconds));
  console.log(`total ${((performance.now() - started) / 1000).toFixed(1)} s; live tensors ${memory().tensors}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runCli(cli, main);
