// The official pretrained G.pt files (gpt-paper.md §3.10: mnist_loss.pt, mnist_error.pt,
// cifar10_loss.pt, cifar10_error.pt, cartpole.pt; wpeebles/G.pt main.py `checkpoint_model`
// saves {"G", "optim", "G_ema"}) loaded into @gpt/transformer's Gpt by state-dict name,
// with the released configs' constants (transformer preset, openai normalization
// coefficient, 1000 linear diffusion steps), as a TrainedGpt ready for optimize().
//
// Every key and shape is checked against the model the config implies before anything large
// is allocated, and a mismatch names the key. Node only (reads a file by path); the
// official files are hundreds of MB to GB and are not part of this repository: they were
// published by the G.pt authors (Gpt/download.py fetches them from the project's server).
import { OFFICIAL_TASKS, toFloat32, type OfficialTask, type TensorData } from '@gpt/checkpoints';
import { openTorchFile } from '@gpt/checkpoints/node';
import { Gpt, resolveGptConfig, computeTokenSizes, type GptConfig, type GptPresetName } from '@gpt/transformer';
import { basename } from 'node:path';
import type { TrainedGpt } from '../trained-gpt.js';

/** The five released models: which checkpoint dataset (task network) and transformer preset each uses. */
export const OFFICIAL_GPT_MODELS = {
  mnist_loss: { dataset: 'mnist', preset: 'mnist', metric: 'avg_test_loss' },
  mnist_error: { dataset: 'mnist', preset: 'mnist', metric: 'avg_test_err' },
  cifar10_loss: { dataset: 'cifar10', preset: 'cifar10', metric: 'avg_test_loss' },
  cifar10_error: { dataset: 'cifar10', preset: 'cifar10', metric: 'avg_test_err' },
  cartpole: { dataset: 'cartpole', preset: 'cartpole', metric: 'train_ret' },
} as const satisfies Record<string, { dataset: OfficialTask['name']; preset: GptPresetName; metric: string }>;

export type OfficialGptName = keyof typeof OFFICIAL_GPT_MODELS;

/** The README's names for the CIFAR files (gpt-paper.md §6 gotcha 11). */
const ALIASES: Record<string, OfficialGptName> = { cifar_loss: 'cifar10_loss', cifar_error: 'cifar10_error' };

export type OfficialLoadProgressEvent = { readonly type: 'read-tensor'; readonly done: number; readonly total: number; readonly key: string };

export interface LoadOfficialOptions {
  /** Which model the file is; default: from the file name (e.g. ".../mnist_error.pt"). */
  readonly task?: OfficialGptName;
  /** The weights to load: the EMA ("G_ema", what the paper evaluates) or the raw ones ("G"). Default "G_ema". */
  readonly weights?: 'G_ema' | 'G';
  /** Transformer config; default the released config of the task (a GPT_PRESETS entry). */
  readonly config?: GptPresetName | Partial<GptConfig>;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: OfficialLoadProgressEvent) => void;
}

/** The official model named by `name` (a file name like "mnist_error.pt" or "cifar_loss" works too), or null. */
export function officialGptName(name: string): OfficialGptName | null {
  const stem = basename(name).replace(/\.pt$/, '');
  if (stem in OFFICIAL_GPT_MODELS) return stem as OfficialGptName;
  return ALIASES[stem] ?? null;
}

/** Loads an official G.pt .pt file as a TrainedGpt (see the file comment). */
export async function loadOfficialGpt(file: string, options: LoadOfficialOptions = {}): Promise<TrainedGpt> {
  const name = options.task ?? officialGptName(file);
  if (!name || !(name in OFFICIAL_GPT_MODELS)) {
    throw new Error(`loadOfficialGpt: cannot tell which official model ${file} is; name it with the task option (one of ${Object.keys(OFFICIAL_GPT_MODELS).join(', ')})`);
  }
  const info = OFFICIAL_GPT_MODELS[name];
  const taskNetwork = OFFICIAL_TASKS[info.dataset];
  const config = resolveGptConfig(options.config ?? info.preset);
  const sizes = taskNetwork.tensors.map((t) => t.shape.reduce((a, b) => a * b, 1));
  const weights = options.weights ?? 'G_ema';
  const expected = expectedGptStateShapes(sizes, config);

  const torchFile = await openTorchFile(file);
  const values: Record<string, Float32Array> = {};
  try {
    const entries = torchFile.stateDict([weights]);
    checkStateShapes(file, weights, name, new Map(entries.map(([key, t]) => [key, t.shape])), expected);
    for (const [i, [key, tensor]] of entries.entries()) {
      options.signal?.throwIfAborted();
      const data: TensorData = await torchFile.readTensor(tensor);
      values[key] = toFloat32(data.dtype, data.data);
      options.onProgress?.({ type: 'read-tensor', done: i + 1, total: entries.length, key });
    }
  } finally {
    await torchFile.close();
  }
  const model = new Gpt(sizes, config, { seed: 0 });
  model.loadStateDict(values);
  model.eval();
  return {
    task: name,
    config,
    model,
    diffusionSteps: config.diffusionSteps,
    noiseSchedule: 'linear',
    normalizationCoefficient: taskNetwork.openaiCoefficient,
    step: 0,
  };
}

/**
 * The state-dict keys and shapes of a Gpt for these task tensor sizes and config, in the
 * official naming, computed without building the model (the paper's models have hundreds
 * of millions of parameters). Mirrors @gpt/transformer's module tree; the tests compare it
 * with a built model's stateShapes().
 */
export function expectedGptStateShapes(parameterSizes: readonly number[], config: GptConfig): Map<string, readonly number[]> {
  const d = config.nEmbd;
  const tokens = computeTokenSizes(parameterSizes, config);
  const shapes = new Map<string, readonly number[]>();
  shapes.set('decoder.pos_emb', [1, tokens.inputSplits.length, d]);
  for (let i = 0; i < config.nLayer; i++) {
    const block = `decoder.blocks.${i}`;
    for (const ln of ['ln1', 'ln2']) {
      shapes.set(`${block}.${ln}.weight`, [d]);
      shapes.set(`${block}.${ln}.bias`, [d]);
    }
    for (const proj of ['key', 'query', 'value', 'proj']) {
      shapes.set(`${block}.attn.${proj}.weight`, [d, d]);
      shapes.set(`${block}.attn.${proj}.bias`, [d]);
    }
    shapes.set(`${block}.mlp.0.weight`, [4 * d, d]);
    shapes.set(`${block}.mlp.0.bias`, [4 * d]);
    shapes.set(`${block}.mlp.2.weight`, [d, 4 * d]);
    shapes.set(`${block}.mlp.2.bias`, [d]);
  }
  // Encoders: Linear(size, d), then (GELU, Linear(d, d)) per extra depth: Sequential indices 0, 2, 4...
  tokens.inputSplits.forEach((size, j) => {
    for (let k = 0; k < config.encoderDepth; k++) shapes.set(`decoder.input_parameter_projections.${j}.${2 * k}.weight`, [d, k === 0 ? size : d]);
  });
  shapes.set('decoder.ln_in.weight', [d]);
  shapes.set('decoder.ln_in.bias', [d]);
  shapes.set('decoder.ln_f.weight', [d]);
  shapes.set('decoder.ln_f.bias', [d]);
  // Decoders: (Linear(d, d), GELU) per extra depth, then Linear(d, size).
  tokens.outputSplits.forEach((size, j) => {
    for (let k = 0; k < config.decoderDepth; k++) {
      const last = k === config.decoderDepth - 1;
      shapes.set(`decoder.output_parameter_projections.${j}.${2 * k}.weight`, [last ? size : d, d]);
    }
  });
  shapes.set('scalar_embedder.frequencies', [config.numFrequencies]);
  return shapes;
}

/** Fails naming every missing, unexpected and mis-shaped key. */
function checkStateShapes(file: string, weights: string, name: string, actual: ReadonlyMap<string, readonly number[]>, expected: ReadonlyMap<string, readonly number[]>): void {
  const problems: string[] = [];
  const missing = [...expected.keys()].filter((k) => !actual.has(k));
  const unexpected = [...actual.keys()].filter((k) => !expected.has(k));
  const format = (s: readonly number[]) => `[${s.join(', ')}]`;
  if (missing.length > 0) problems.push(`missing keys: ${listed(missing)}`);
  if (unexpected.length > 0) problems.push(`unexpected keys: ${listed(unexpected)}`);
  for (const [key, shape] of expected) {
    const got = actual.get(key);
    if (got && (got.length !== shape.length || got.some((n, i) => n !== shape[i]))) problems.push(`"${key}" has shape ${format(got)}, expected ${format(shape)}`);
  }
  if (problems.length > 0) {
    throw new Error(`loadOfficialGpt: ${file}["${weights}"] does not match the ${name} G.pt of this config: ${problems.slice(0, 8).join('; ')}${problems.length > 8 ? `; and ${problems.length - 8} more` : ''}`);
  }
}

function listed(keys: readonly string[]): string {
  return keys.length > 6 ? `${keys.slice(0, 6).join(', ')} and ${keys.length - 6} more` : keys.join(', ');
}
