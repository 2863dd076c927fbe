// The training state on disk, so that a run can stop (abort, crash, kill -9) and continue
// exactly. Layout of an output folder:
//   train.jsonl                      every metric (train-log.ts)
//   latest.json, best.json           pointers: {"checkpoint": "checkpoints/step-000000500", "step": 500}
//   checkpoints/step-NNNNNNNNN/
//     model.safetensors              the raw weights (official state-dict keys: PyTorch's G)
//     ema.safetensors                the EMA weights as a whole Gpt state dict (G_ema, what is sampled)
//     optimizer.safetensors          AdamW's moments and step counts (@gpt/nn's optimizer format)
//     state.json                     step, config, task, normalization, every generator and sampler position
// A checkpoint folder is written file by file (each atomically), then the pointer is
// replaced atomically: until that rename the previous checkpoint is the valid one, so a
// kill at any moment leaves a loadable state. Folders no pointer names are deleted.
import { mkdir, readFile, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { PairSamplerState } from '@gpt/checkpoints';
import { writeFileAtomic } from '@gpt/checkpoints/node';
import { loadOptimizerStateBytes, loadStateDictBytes, saveOptimizerState, saveStateDict, type AdamOptions, type AdamW } from '@gpt/nn';
import { Gpt, computeTokenSizes } from '@gpt/transformer';
import type { TrainedGpt } from '../trained-gpt.js';
import { ensureDevice } from './device.js';
import type { TrainConfig } from './train-config.js';
import { checkTrainConfig } from './train-config.js';

export const STATE_FORMAT = 'gpt-train-state';
export const STATE_FORMAT_VERSION = 1;
export const CHECKPOINTS_DIR = 'checkpoints';
export const STATE_FILES = { model: 'model.safetensors', ema: 'ema.safetensors', optimizer: 'optimizer.safetensors', state: 'state.json' } as const;
export type CheckpointPointer = 'latest' | 'best';

/** Which checkpoint is the best so far, and by what. */
export interface BestRecord {
  /** "score": the evaluate callback's (larger is better); "heldOutLoss": smaller is better. */
  readonly by: 'score' | 'heldOutLoss';
  readonly value: number;
  readonly step: number;
}

/** state.json: everything besides the tensors. */
export interface SavedTrainState {
  readonly format: typeof STATE_FORMAT;
  readonly formatVersion: typeof STATE_FORMAT_VERSION;
  /** Task registry name, e.g. "mnist_error". */
  readonly task: string;
  /** The dataset trained on (its folder as given, family, D, split sizes). */
  readonly dataset: { readonly dir: string; readonly task: string; readonly parameterCount: number; readonly trainRuns: number; readonly testRuns: number };
  /** Element counts of the task network's tensors, in state-dict order (fix G.pt's token sizes). */
  readonly parameterSizes: readonly number[];
  readonly config: TrainConfig;
  readonly plan: { readonly totalSteps: number; readonly evalEvery: number; readonly evalPairs: number; readonly evaluateEvery: number };
  readonly step: number;
  readonly epoch: number;
  /** The openai constant the pairs were scaled by (estimated once, at the start). */
  readonly normalizationCoefficient: number;
  readonly random: { readonly pairs: PairSamplerState; readonly diffusion: { readonly key: readonly [number, number]; readonly counter: number } };
  readonly best: BestRecord | null;
}

/** What the trainer gives to be saved. */
export interface CheckpointContents {
  readonly state: SavedTrainState;
  readonly model: Gpt;
  /** A Gpt holding the EMA weights. */
  readonly emaModel: Gpt;
  readonly optimizer: Parameters<typeof saveOptimizerState>[0];
}

export interface WriteCheckpointOptions {
  /** Skip fsync (tests only: not crash-safe). */
  readonly noSync?: boolean;
  readonly onFile?: (file: string) => void;
}

function checkpointName(step: number): string {
  return join(CHECKPOINTS_DIR, `step-${String(step).padStart(9, '0')}`);
}

/** Writes the checkpoint folder of `contents.state.step` (not yet pointed to); returns its path relative to `outDir`. */
export async function writeCheckpoint(outDir: string, contents: CheckpointContents, options: WriteCheckpointOptions = {}): Promise<string> {
  const relative = checkpointName(contents.state.step);
  const dir = join(outDir, relative);
  await mkdir(dir, { recursive: true });
  const write = async (file: string, bytes: Uint8Array) => {
    await writeFileAtomic(join(dir, file), [bytes], { noSync: options.noSync });
    options.onFile?.(file);
  };
  await write(STATE_FILES.model, await saveStateDict(contents.model, { metadata: { format: 'gpt-state-dict', role: 'G' } }));
  await write(STATE_FILES.ema, await saveStateDict(contents.emaModel, { metadata: { format: 'gpt-state-dict', role: 'G_ema' } }));
  await write(STATE_FILES.optimizer, await saveOptimizerState(contents.optimizer));
  await write(STATE_FILES.state, new TextEncoder().encode(`${JSON.stringify(contents.state, null, 2)}\n`));
  return relative;
}

/** Makes `pointer` name the checkpoint folder `relative` (one atomic rename). */
export async function setPointer(outDir: string, pointer: CheckpointPointer, relative: string, step: number, options: { noSync?: boolean } = {}): Promise<void> {
  const text = `${JSON.stringify({ checkpoint: relative, step })}\n`;
  await writeFileAtomic(join(outDir, `${pointer}.json`), [new TextEncoder().encode(text)], { noSync: options.noSync });
}

/** The checkpoint folder `pointer` names (relative to `outDir`), or null when there is none. */
export async function readPointer(outDir: string, pointer: CheckpointPointer): Promise<string | null> {
  const file = join(outDir, `${pointer}.json`);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
  const checkpoint = (value as { checkpoint?: unknown } | null)?.checkpoint;
  if (typeof checkpoint !== 'string' || !/^checkpoints\/step-\d{9}$/.test(checkpoint)) {
    throw new Error(`${file}: "checkpoint" must name a folder checkpoints/step-NNNNNNNNN, got ${JSON.stringify(checkpoint)}`);
  }
  return checkpoint;
}

/** Deletes checkpoint folders that no pointer names (older ones, or one a kill left half-written). */
export async function pruneCheckpoints(outDir: string): Promise<void> {
  const kept = new Set((await Promise.all([readPointer(outDir, 'latest'), readPointer(outDir, 'best')])).filter((p): p is string => p !== null));
  const names = await readdir(join(outDir, CHECKPOINTS_DIR)).catch(() => [] as string[]);
  for (const name of names) {
    if (!kept.has(join(CHECKPOINTS_DIR, name))) await rm(join(outDir, CHECKPOINTS_DIR, name), { recursive: true, force: true });
  }
}

/** A checkpoint folder's state.json, validated; errors name the file. */
export async function readSavedState(checkpointDir: string): Promise<SavedTrainState> {
  const file = join(checkpointDir, STATE_FILES.state);
  let value: SavedTrainState;
  try {
    value = JSON.parse(await readFile(file, 'utf8')) as SavedTrainState;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new Error(`${file}: missing: ${checkpointDir} is not a G.pt training checkpoint`);
    throw new Error(`${file}: not valid JSON (${(error as Error).message})`);
  }
  if (value?.format !== STATE_FORMAT || value.formatVersion !== STATE_FORMAT_VERSION) {
    throw new Error(`${file}: not a G.pt training state (format ${JSON.stringify(value?.format)} version ${JSON.stringify(value?.formatVersion)}, expected "${STATE_FORMAT}" version ${STATE_FORMAT_VERSION})`);
  }
  const fail = (what: string) => new Error(`${file}: ${what}`);
  if (!Number.isSafeInteger(value.step) || value.step < 0) throw fail(`step must be a non-negative integer, got ${value.step}`);
  if (!(Number.isFinite(value.normalizationCoefficient) && value.normalizationCoefficient > 0)) throw fail(`normalizationCoefficient must be positive, got ${value.normalizationCoefficient}`);
  if (!Array.isArray(value.parameterSizes) || !value.parameterSizes.every((n) => Number.isSafeInteger(n) && n > 0)) throw fail('parameterSizes must be a list of positive integers');
  if (typeof value.task !== 'string') throw fail('task must be a task name');
  try {
    checkTrainConfig(value.config, 'config');
  } catch (error) {
    throw fail((error as Error).message);
  }
  return value;
}

/**
 * The checkpoint folder to load from `dir`: `dir` itself when it holds a state.json,
 * else the one `which` (default "latest") names in the output folder `dir`.
 */
export async function resolveCheckpointDir(dir: string, which: CheckpointPointer = 'latest'): Promise<string> {
  if (!(await stat(dir).catch(() => null))) throw new Error(`training folder "${dir}" does not exist`);
  if (await stat(join(dir, STATE_FILES.state)).catch(() => null)) return dir;
  const relative = await readPointer(dir, which);
  if (relative === null) throw new Error(`${dir}: no ${which}.json: not a G.pt training folder, or no checkpoint written yet`);
  return join(dir, relative);
}

/** Reads a module state dict file into `model` (host tensors, loaded and freed). */
export async function loadWeightsInto(model: Gpt, file: string, keys?: ReadonlySet<string>): Promise<void> {
  const bytes = new Uint8Array(await readFile(file));
  const dict = loadStateDictBytes(bytes, { name: file });
  try {
    const chosen = keys ? Object.fromEntries(Object.entries(dict).filter(([k]) => keys.has(k))) : dict;
    model.loadStateDict(chosen);
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  } finally {
    for (const t of Object.values(dict)) t.dispose();
  }
}

/** Reads an optimizer state file into `optimizer`. */
export async function loadOptimizerInto(optimizer: AdamW, file: string): Promise<void> {
  const bytes = new Uint8Array(await readFile(file));
  const dict = loadOptimizerStateBytes<AdamOptions>(bytes, { name: file });
  try {
    optimizer.loadStateDict(dict);
  } catch (error) {
    throw new Error(`${file}: ${(error as Error).message}`);
  } finally {
    for (const entry of Object.values(dict.state)) for (const v of Object.values(entry)) if (typeof v !== 'number') v.dispose();
  }
}

/**
 * Checks that a model with these parameter sizes and config fits a dataset of D
 * parameters per checkpoint: G.pt's decoded tokens must cover exactly D numbers.
 */
export function checkTokensCoverDataset(parameterSizes: readonly number[], config: TrainConfig['model'], parameterCount: number, what: string): void {
  const tokens = computeTokenSizes(parameterSizes, config);
  const covered = tokens.outputSplits.reduce((a, b) => a + b, 0);
  if (covered !== parameterCount) {
    const sizes = tokens.outputSplits.length > 12 ? `${tokens.outputSplits.slice(0, 12).join(', ')}, ...` : tokens.outputSplits.join(', ');
    throw new Error(`${what}: its ${tokens.outputSplits.length} parameter tokens (sizes ${sizes}) cover D = ${covered} parameters, but the dataset has D = ${parameterCount}`);
  }
}

export interface LoadTrainedGptOptions {
  /** "latest" (default) or "best" (by the evaluate callback's score, else the held-out loss). */
  readonly which?: CheckpointPointer;
  /** Device to put the model on (default: the default device). */
  readonly device?: string;
}

/**
 * The EMA model of a training folder (or of one checkpoint folder) as a TrainedGpt, for
 * prompting and evaluation.
 */
export async function loadTrainedGpt(dir: string, options: LoadTrainedGptOptions = {}): Promise<TrainedGpt> {
  const checkpointDir = await resolveCheckpointDir(dir, options.which);
  const state = await readSavedState(checkpointDir);
  const device = await ensureDevice(options.device, 'loadTrainedGpt');
  const model = new Gpt(state.parameterSizes, state.config.model, { seed: 0 });
  try {
    await loadWeightsInto(model, join(checkpointDir, STATE_FILES.ema));
    await model.toAsync(device);
  } catch (error) {
    model.dispose();
    throw error;
  }
  model.eval();
  return {
    task: state.task,
    config: state.config.model,
    model,
    diffusionSteps: state.config.diffusionSteps,
    noiseSchedule: state.config.noiseSchedule,
    normalizationCoefficient: state.normalizationCoefficient,
    step: state.step,
  };
}
