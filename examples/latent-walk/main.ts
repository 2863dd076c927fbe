// Latent walk (gpt-paper.md §5.5; the official playground.py): DDIM with eta 0 turns each
// initial noise x_T into one parameter vector, deterministically. Walking x_T along great
// circles between a few Gaussian keyframes — the starting network, its metric and the
// prompt fixed — shows how G.pt's output moves with the noise alone. Writes the metric along
// the walk (JSON + line chart) and, for the CIFAR-10 CNN, the 16 first-layer 3x3 RGB filters
// of every frame as an SVG sequence (frames/frame-000.svg, ...).
//
// Run from the repository root (--help lists the options):
//   pnpm example latent-walk                     # MNIST: trains a small G.pt first, metric only
//   pnpm example latent-walk --gpt out/gpt-cifar --task-data ~/cifar-10-batches-bin   # with filter frames
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { latentWalk, latentWalkFilterFrames, latentWalkPlot, writePlot } from '@gpt/g-pt';
import { defineCli, describeRuntime, runCli, type CliValues } from '@gpt/g-pt/cli';
import { writeJson } from '../multimodality-landscape/write-json.js';
import { interruptOnCtrlC, QUICK_GPT_OPTIONS, quickGpt, unseenInitializations } from '../multimodality-landscape/quick-gpt.js';

export const cli = defineCli({
  name: 'pnpm example latent-walk',
  summary: 'DDIM (eta 0) along a spherical interpolation of the initial noise, everything else fixed: the metric along the walk, and the CIFAR-10 first-layer filters per frame.',
  options: {
    ...QUICK_GPT_OPTIONS,
    keyframes: { type: 'integer', default: 4, min: 2, description: 'Gaussian keyframes of the noise (the official walk: 16)' },
    framesPerSegment: { type: 'integer', default: 12, min: 1, description: 'frames from one keyframe to the next (the official walk: 120)' },
    samplerSteps: { type: 'integer', default: 50, min: 1, description: 'DDIM steps (the official walk: all 1000)' },
    prompt: { type: 'number', description: "prompted metric (default: the task's best prompt)" },
  },
});

export async function main(options: CliValues<typeof cli.options>): Promise<void> {
  const interrupt = interruptOnCtrlC();
  console.log(describeRuntime());
  const { trained, task } = await quickGpt({ ...options, signal: interrupt.signal, log: (line) => console.log(line) });
  const [start] = unseenInitializations(task, 1, options.seed);
  const frames = options.keyframes * options.framesPerSegment;
  console.log(`latent walk: ${options.keyframes} keyframes x ${options.framesPerSegment} frames = ${frames} DDIM-${options.samplerSteps} samples of one unseen ${task.name} network`);
  const result = await latentWalk(trained, task, start!, {
    keyframes: options.keyframes,
    framesPerSegment: options.framesPerSegment,
    steps: options.samplerSteps,
    prompt: options.prompt,
    seed: options.seed,
    signal: interrupt.signal,
  });
  interrupt.release();
  const { report } = result;
  const metrics = report.frames.map((f) => f.metric);
  const unit = task.metric.unit ? ` ${task.metric.unit}` : '';
  console.log(`start ${report.startMetric.toFixed(3)}${unit}, prompt ${report.prompt}${unit}`);
  console.log(`${task.metric.label} along the walk: min ${Math.min(...metrics).toFixed(3)}, max ${Math.max(...metrics).toFixed(3)}${unit}`);
  const steps = report.frames.map((f) => f.stepDistance);
  console.log(`distance between consecutive frames (raw parameters): median ${steps.sort((a, b) => a - b)[steps.length >> 1]!.toFixed(4)}, max ${steps[steps.length - 1]!.toFixed(4)}`);
  const dir = join(options.out, 'latent-walk');
  console.log(`wrote ${await writeJson(dir, 'latent-walk.json', report)} and ${await writePlot(dir, 'metric-along-walk', await latentWalkPlot(report))}`);
  const svgs = await latentWalkFilterFrames(task, result);
  if (!svgs) {
    console.log(`no filter frames: ${task.name}'s first tensor is not a conv layer on RGB input (the CIFAR-10 tasks have one)`);
    return;
  }
  for (const [i, svg] of svgs.entries()) await writePlot(join(dir, 'frames'), `frame-${String(i).padStart(3, '0')}`, svg);
  console.log(`wrote ${svgs.length} filter frames to ${join(dir, 'frames')}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runCli(cli, main);
