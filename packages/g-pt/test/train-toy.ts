// Shared by the training tests: a toy task and its checkpoint datasets, written through
// DatasetWriter. The network is Linear(3 -> 4) (w [4, 3], b [4]: D = 16, its 4 units
// permutable). Runs come in two families: along a run, every parameter moves by +0.5
// (family A) or -0.5 (family B) times the progress s = k / (n - 1) while the metric falls
// as 1 - s. A family is told by the sign of its biases at the start (+1 or -1 offsets), so
// G.pt can learn θ₁ = θ₀ + (m₀ - m₁) v_family; the directions are all-equal vectors, so
// permuting the units (augmentation) keeps the rule.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createManifest, runNameOf, type RunData } from '@gpt/checkpoints';
import { DatasetWriter } from '@gpt/checkpoints/node';
import { Linear } from '@gpt/nn';
import { Generator, type Generator as GeneratorType } from '@gpt/tensor';
import type { Task } from '../src/tasks/task.js';
import type { TrainGptOptions } from '../src/train/trainer.js';

export const TOY_TENSORS = [
  { name: 'w', shape: [4, 3] },
  { name: 'b', shape: [4] },
];
export const TOY_D = 16;

/** The toy as a Task (registry name `name`, dataset family "toy"). */
export function toyTask(name = 'toy_loss'): Task {
  return {
    name,
    dataset: 'toy',
    description: 'training tests: two families of runs moving along +/- the all-ones direction',
    tensors: TOY_TENSORS,
    parameterCount: TOY_D,
    permutation: {
      tensors: TOY_TENSORS,
      groups: [{ name: 'hidden', size: 4, members: [{ tensor: 'w', axis: 0 }, { tensor: 'b', axis: 0 }] }],
    },
    datasetMetrics: ['loss'],
    metric: { name: 'loss', label: 'loss', unit: '', goal: 'minimize' },
    prompt: { bestPrompt: 0, promptStartCoefficient: 1, recursivePrompt: 0 },
    recipe: {},
    createNetwork: (generator: GeneratorType) => new Linear(3, 4, { generator }),
    async trainRuns(runs, { checkpointsPerRun }) {
      return runs.map((r) => toyRun(r, checkpointsPerRun));
    },
    // The loss of a vector: 1 minus its progress along its family's direction from the run's start is unknown
    // without the start, so the toy reports the mean |bias| - 1 distance instead (unused by training).
    async evaluate(params) {
      return params.map((p) => ({ loss: p.slice(12).reduce((a, v) => a + Math.abs(v), 0) / 4 }));
    },
  };
}

/** Run r: family r % 2, n checkpoints. */
export function toyRun(r: number, n: number): RunData {
  const g = new Generator(1000 + r);
  const sign = r % 2 === 0 ? 1 : -1;
  const start = Float32Array.from(g.normal(TOY_D), (v) => 0.3 * v);
  for (let j = 12; j < TOY_D; j++) start[j] = start[j]! + sign; // biases say the family
  const parameters = new Float32Array(n * TOY_D);
  const loss: number[] = [];
  for (let k = 0; k < n; k++) {
    const s = k / (n - 1);
    for (let j = 0; j < TOY_D; j++) parameters[k * TOY_D + j] = start[j]! + 0.5 * sign * s;
    loss.push(1 - s);
  }
  return { parameters, iterations: Array.from({ length: n }, (_, k) => k), metrics: { loss } };
}

/**
 * trainGpt options for the toy: the tiny G.pt, batch 8, AdamW 3e-3 at a constant lr, EMA
 * 0.9, no fsync, no held-out loss; each test overrides what it is about.
 */
export function toyTrainOptions(data: string, overrides: Partial<TrainGptOptions> = {}): TrainGptOptions {
  return {
    data,
    task: toyTask(),
    model: 'tiny',
    batchSize: 8,
    lr: 3e-3,
    schedule: { kind: 'constant', warmupSteps: 0 },
    epochSize: 24,
    ema: { decay: 0.9 },
    normalizationSamples: 40,
    evalEvery: 0,
    noSync: true,
    ...overrides,
  };
}

const dirs: string[] = [];

/** Deletes the folders tempDir made (call from afterAll; this file stays free of vitest for child processes). */
export async function removeTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

export async function tempDir(prefix = 'gpt-train-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

/** A toy dataset folder: `runs` runs of `n` checkpoints, the last `numTestRuns` held out. */
export async function writeToyDataset(options: { runs?: number; n?: number; numTestRuns?: number; task?: string; tensors?: typeof TOY_TENSORS } = {}): Promise<string> {
  const dir = await tempDir('gpt-toy-data-');
  const manifest = createManifest({ task: options.task ?? 'toy', tensors: options.tensors ?? TOY_TENSORS, metrics: ['loss'], numTestRuns: options.numTestRuns ?? 6 });
  const writer = await DatasetWriter.create(dir, manifest, { noSync: true });
  const D = manifest.parameterCount;
  for (let r = 0; r < (options.runs ?? 30); r++) {
    const run = toyRun(r, options.n ?? 8);
    // Another layout (bad-input tests): each checkpoint's first D values.
    const parameters = D === TOY_D ? run.parameters : Float32Array.from({ length: (options.n ?? 8) * D }, (_, i) => run.parameters[Math.floor(i / D) * TOY_D + (i % D)]!);
    await writer.writeRun(runNameOf(r), { ...run, parameters });
  }
  await writer.close(); // releases the folder's writer lock
  return dir;
}
