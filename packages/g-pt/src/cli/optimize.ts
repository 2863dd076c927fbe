// `gpt optimize`: one G.pt update of parameter vectors (optimize()). The model is a training
// folder of `gpt train` (its EMA weights) or an official .pt file; the vectors are unseen
// random initializations of the task or the rows of a safetensors file. Prints each
// network's metric before and after and writes the generated vectors (optimized.safetensors)
// with the measured metrics (optimize.json) to --out.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { readSafetensors, writeSafetensors } from '@gpt/checkpoints/node';
import '../tasks/builtin.js';
import { unseenInitializations } from '../eval/demo-pipeline.js';
import { optimize, type OptimizeProgressEvent } from '../sample/optimize.js';
import { loadOfficialGpt } from '../sample/official.js';
import { createTask } from '../tasks/registry.js';
import type { Task } from '../tasks/task.js';
import { loadTrainedGpt } from '../train/train-state.js';
import type { TrainedGpt } from '../trained-gpt.js';
import { CliUsageError, defineCli, type CliValues, type OptionSpecs } from './options.js';
import { ProgressDisplay, abortOnSigint } from './progress.js';
import { describeRuntime } from './runtime.js';

/** The options `gpt optimize` and `gpt eval` share: which model, which task, which networks, which sampler. */
export const MODEL_OPTIONS = {
  model: { type: 'string', placeholder: 'DIR|FILE', required: true, description: 'a `gpt train` output folder (its EMA weights) or an official G.pt .pt file' },
  which: { type: 'string', choices: ['latest', 'best'], default: 'latest', description: 'which checkpoint of a training folder' },
  taskOptions: { type: 'string', placeholder: 'JSON', description: "options of the model's task as a JSON object, e.g. '{\"dataDir\":\"mnist\"}'" },
  taskModule: { type: 'string', placeholder: 'FILE', description: 'a module that registers a custom task' },
  params: { type: 'string', placeholder: 'FILE', description: 'a safetensors file whose 2-D float32 tensor holds the starting vectors, one per row (default: unseen random initializations)' },
  networks: { type: 'integer', min: 1, default: 8, placeholder: 'N', description: 'unseen random initializations to start from (without --params)' },
  sampler: { type: 'string', choices: ['ddim', 'ddpm'], default: 'ddim', description: 'ddim (deterministic with --eta 0) or ddpm (ancestral, the paper sampler with 1000 steps)' },
  steps: { type: 'integer', min: 1, placeholder: 'N', description: 'model calls per sample (default 50 for ddim, every training step for ddpm; fewer respaces the process)' },
  eta: { type: 'number', min: 0, placeholder: 'X', description: 'DDIM eta (0: deterministic)' },
  seed: { type: 'integer', default: 0, min: 0, description: 'seed of the sampling noise (and of the random initializations)' },
  out: { type: 'string', placeholder: 'DIR', description: 'output folder for the results (default: ./gpt-optimize or ./gpt-eval)' },
  json: { type: 'boolean', description: 'print the results as JSON on stdout (progress stays on stderr)' },
} as const satisfies OptionSpecs;

export const cli = defineCli({
  name: 'gpt optimize',
  summary:
    'One G.pt update: measures each starting network with the task, samples G.pt conditioned on it and the prompt, and measures what the samples reach. ' +
    'Writes optimized.safetensors (the generated vectors, one row per network x prompt x sample) and optimize.json to --out.',
  options: {
    ...MODEL_OPTIONS,
    prompt: { type: 'number', placeholder: 'X', description: "the prompted metric (default: the task's best prompt)" },
    samples: { type: 'integer', min: 1, default: 1, placeholder: 'K', description: 'samples per network' },
  },
});

type ModelValues = CliValues<typeof MODEL_OPTIONS>;

/** The model, its task and the starting vectors the shared options name. */
export async function loadModelTaskParams(values: ModelValues): Promise<{ trained: TrainedGpt; task: Task; params: Float32Array[]; source: string }> {
  if (values.taskModule !== undefined) await import(pathToFileURL(resolve(values.taskModule)).href);
  let taskOptions: Record<string, unknown> = {};
  if (values.taskOptions !== undefined) {
    try {
      taskOptions = JSON.parse(values.taskOptions) as Record<string, unknown>;
    } catch (error) {
      throw new CliUsageError(`--task-options is not valid JSON (${(error as Error).message})`, '--task-options');
    }
    if (taskOptions === null || typeof taskOptions !== 'object' || Array.isArray(taskOptions)) throw new CliUsageError('--task-options must be a JSON object', '--task-options');
  }
  const trained = values.model.endsWith('.pt') ? await loadOfficialGpt(resolve(values.model)) : await loadTrainedGpt(resolve(values.model), { which: values.which as 'latest' | 'best' });
  const task = await createTask(trained.task, taskOptions);
  if (values.params === undefined) {
    return { trained, task, params: unseenInitializations(task, values.networks, values.seed), source: `${values.networks} unseen random initializations of ${task.name}` };
  }
  return { trained, task, params: await readParameterRows(resolve(values.params), task), source: values.params };
}

/** The rows of the one 2-D float32 tensor of a safetensors file (or its "parameters" tensor, as in a run file). */
export async function readParameterRows(file: string, task: Task): Promise<Float32Array[]> {
  const { tensors } = await readSafetensors(file);
  const candidates = [...tensors.entries()].filter(([, t]) => t.dtype === 'F32' && t.shape.length === 2);
  const chosen = tensors.get('parameters') ?? (candidates.length === 1 ? candidates[0]![1] : undefined);
  if (!chosen || chosen.dtype !== 'F32' || chosen.shape.length !== 2) {
    throw new Error(`${file}: expected one 2-D F32 tensor (or one named "parameters") with a vector per row, found ${[...tensors.entries()].map(([n, t]) => `${n} ${t.dtype} [${t.shape.join(', ')}]`).join(', ') || 'no tensors'}`);
  }
  const [rows, D] = chosen.shape as [number, number];
  if (D !== task.parameterCount) throw new Error(`${file}: rows have ${D} values, but task "${task.name}" has ${task.parameterCount} parameters`);
  const data = chosen.data as Float32Array;
  return Array.from({ length: rows }, (_, i) => data.slice(i * D, (i + 1) * D));
}

/** A progress bar over the sampling loop's steps. */
export function samplingProgress(): { onProgress: (event: OptimizeProgressEvent) => void; finish: () => void } {
  let display: ProgressDisplay | null = null;
  return {
    onProgress: (event) => {
      if (event.type !== 'sample-step') return;
      display ??= new ProgressDisplay({ label: 'sample', total: event.steps * event.batches });
      display.update({ done: event.batch * event.steps + event.step });
    },
    finish: () => {
      display?.finish();
      display = null;
    },
  };
}

export async function main(values: CliValues<typeof cli.options>): Promise<void> {
  const say = (line: string) => (values.json ? process.stderr : process.stdout).write(`${line}\n`);
  say(describeRuntime());
  const { trained, task, params, source } = await loadModelTaskParams(values);
  const out = resolve(values.out ?? 'gpt-optimize');
  const prompt = values.prompt ?? task.prompt.bestPrompt;
  say(`G.pt for ${task.name} (${trained.step} training steps); ${params.length} networks from ${source}; prompt ${prompt}; ${values.samples} sample(s) each`);
  const interrupt = abortOnSigint();
  const progress = samplingProgress();
  try {
    const result = await optimize(trained, task, params, {
      prompt,
      samples: values.samples,
      sampler: values.sampler as 'ddim' | 'ddpm',
      steps: values.steps,
      eta: values.eta,
      seed: values.seed,
      signal: interrupt.signal,
      onProgress: progress.onProgress,
    });
    progress.finish();
    await mkdir(out, { recursive: true });
    const D = task.parameterCount;
    const rows = new Float32Array(result.samples.length * D);
    result.samples.forEach((s, i) => rows.set(s.params, i * D));
    await writeSafetensors(join(out, 'optimized.safetensors'), [{ name: 'parameters', dtype: 'F32', shape: [result.samples.length, D], data: rows }], { task: task.name });
    const summary = {
      task: task.name,
      metric: task.metric.name,
      sampler: result.sampler,
      prompt,
      samplingSeconds: result.samplingSeconds,
      networks: result.startMetric.map((before, network) => ({ network, before, after: result.samples.filter((s) => s.network === network).map((s) => s.metric) })),
      meanBefore: mean(result.startMetric),
      meanAfter: mean(result.samples.map((s) => s.metric)),
      files: [join(out, 'optimized.safetensors'), join(out, 'optimize.json')],
    };
    await writeFile(join(out, 'optimize.json'), `${JSON.stringify(summary, null, 1)}\n`);
    if (values.json) {
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      return;
    }
    const f = (v: number) => v.toFixed(4);
    for (const n of summary.networks) say(`network ${String(n.network).padStart(3)}: ${task.metric.name} ${f(n.before)} -> ${n.after.map(f).join(', ')}`);
    say(`mean ${task.metric.name}: ${f(summary.meanBefore)} before -> ${f(summary.meanAfter)} after one G.pt update (${result.sampler}, ${result.samplingSeconds.toFixed(1)} s of sampling)`);
    say(`wrote ${summary.files.join(', ')}`);
  } finally {
    progress.finish();
    interrupt.dispose();
    trained.model.dispose();
  }
}

function mean(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}
