// `gpt train`: trains G.pt on a checkpoint dataset (trainGpt) with a progress bar (step,
// loss, steps/s, ETA) or JSON lines, writing the training state and the JSONL log of every
// metric to --out. Ctrl-C saves the last step; `--resume` continues exactly from there.
import { basename, resolve } from 'node:path';
import { GPT_PRESETS } from '@gpt/transformer';
import '../tasks/builtin.js';
import type { TrainEvent } from '../train/events.js';
import { TRAIN_PRESETS, type TrainPresetName } from '../train/presets.js';
import { trainGpt, type TrainGptOptions } from '../train/trainer.js';
import { promptAlignmentEvaluator } from '../train/alignment-evaluator.js';
import { readPointer, readSavedState, resolveCheckpointDir } from '../train/train-state.js';
import { createTask } from '../tasks/registry.js';
import { CliUsageError, defineCli, type CliValues } from './options.js';
import { ProgressDisplay, abortOnSigint, formatDuration } from './progress.js';
import { describeRuntime } from './runtime.js';
import { taskModuleUrl, taskUsageError } from './task-module.js';

const PRESET_NAMES = Object.keys(TRAIN_PRESETS) as TrainPresetName[];

export const cli = defineCli({
  name: 'gpt train',
  summary:
    'Trains G.pt on a checkpoint dataset: the Gpt transformer learns to denoise later checkpoints of a run given an earlier one and both metrics ' +
    '(x0-prediction diffusion, AdamW, EMA). Writes the training state every --checkpoint-every steps and a JSONL log of every metric to --out. ' +
    'Interrupted (Ctrl-C, kill -9)? Run the same command with --resume: it continues exactly from the last saved step.',
  options: {
    data: { type: 'string', required: true, placeholder: 'DIR', description: 'the checkpoint dataset folder (made by gpt data)' },
    preset: { type: 'string', choices: PRESET_NAMES, placeholder: 'P', description: `model and optimization settings: ${PRESET_NAMES.join(', ')} (the paper's five, then CPU-sized ones); not needed with --resume` },
    task: { type: 'string', placeholder: 'NAME', description: "the task (its network and metric); default: the preset's" },
    out: { type: 'string', placeholder: 'DIR', description: 'output folder for the training state and train.jsonl (default: ./gpt-train-PRESET)' },
    resume: { type: 'boolean', description: 'continue the run saved in --out (starts fresh when there is none yet)' },
    device: { type: 'string', choices: ['cpu', 'webgpu'], default: 'cpu', description: 'where to train' },
    model: { type: 'string', choices: Object.keys(GPT_PRESETS), placeholder: 'M', description: `the G.pt backbone instead of the preset's: ${Object.keys(GPT_PRESETS).join(', ')}` },
    steps: { type: 'integer', min: 1, placeholder: 'N', description: "train until this many steps (default: the preset's)" },
    maxMinutes: { type: 'number', min: 0, placeholder: 'X', description: 'stop after X minutes of training (the state is saved; --resume continues towards --steps)' },
    batchSize: { type: 'integer', min: 1, placeholder: 'N', description: "pairs per step (default: the preset's)" },
    lr: { type: 'number', min: 0, placeholder: 'X', description: "base learning rate (default: the preset's)" },
    seed: { type: 'integer', placeholder: 'N', description: 'seed of the initialization, pairs, timesteps and noise (default 0)' },
    evalEvery: { type: 'integer', min: 0, placeholder: 'N', description: "held-out loss on test-split pairs every N steps (default: the preset's; 0: never)" },
    checkpointEvery: { type: 'integer', min: 1, placeholder: 'N', description: "save the training state every N steps (default: the preset's)" },
    testRuns: { type: 'integer', min: 0, placeholder: 'M', description: "hold out the last M runs (default: the dataset's split)" },
    normalizationSamples: { type: 'integer', min: 2, placeholder: 'N', description: 'checkpoints read to estimate the normalization constant (default 25,000)' },
    alignEvery: { type: 'integer', min: 0, placeholder: 'N', description: "prompt alignment of the EMA model every N steps, keeping the best checkpoint (default: the preset's; 0: never)" },
    alignNetworks: { type: 'integer', min: 1, default: 16, placeholder: 'K', description: 'test-split initializations optimized per prompt-alignment evaluation' },
    alignSampler: { type: 'string', choices: ['ddim', 'ddpm'], default: 'ddim', description: 'sampler of the prompt-alignment evaluation' },
    alignSteps: { type: 'integer', min: 1, default: 50, placeholder: 'N', description: 'model calls per sample in the prompt-alignment evaluation' },
    noSync: { type: 'boolean', description: 'skip fsync when saving the training state (faster; a killed process is still safe, a power loss is not)' },
    taskModule: { type: 'string', placeholder: 'FILE', description: 'a module that registers a custom task' },
    json: { type: 'boolean', description: 'print the progress events as JSON lines instead of a bar' },
  },
});

type Values = CliValues<typeof cli.options>;

/** The options trainGpt gets from the command line (only the flags given override the preset). */
function trainOptions(values: Values, out: string): Omit<TrainGptOptions, 'signal' | 'onProgress'> {
  return Object.fromEntries(
    Object.entries({
      data: resolve(values.data),
      preset: values.preset,
      task: values.task,
      out,
      resume: values.resume,
      device: values.device,
      model: values.model,
      steps: values.steps,
      maxSeconds: values.maxMinutes === undefined ? undefined : values.maxMinutes * 60,
      batchSize: values.batchSize,
      lr: values.lr,
      seed: values.seed,
      evalEvery: values.evalEvery,
      checkpointEvery: values.checkpointEvery,
      numTestRuns: values.testRuns,
      normalizationSamples: values.normalizationSamples,
      noSync: values.noSync || undefined,
    }).filter(([, v]) => v !== undefined),
  ) as unknown as TrainGptOptions;
}

/**
 * The prompt-alignment evaluation (on unless --align-every 0): it needs the whole task
 * (its evaluate), made here from the task's name (given, the preset's, or the saved run's).
 */
async function alignmentHook(values: Values, out: string): Promise<Pick<TrainGptOptions, 'task' | 'evaluate' | 'evaluateEvery'>> {
  const preset = values.preset === undefined ? undefined : TRAIN_PRESETS[values.preset];
  let every = values.alignEvery ?? preset?.alignEvery;
  let taskName = values.task ?? preset?.task;
  if (values.resume && (every === undefined || taskName === undefined)) {
    const saved = await readSavedState(await resolveCheckpointDir(out)).catch(() => null);
    every ??= saved?.plan.evaluateEvery;
    taskName ??= saved?.task;
  }
  if (!every || taskName === undefined) return { evaluateEvery: 0 };
  const task = await createTask(taskName);
  const evaluate = promptAlignmentEvaluator(task, resolve(values.data), {
    networks: values.alignNetworks,
    sampler: values.alignSampler,
    steps: values.alignSteps,
    device: values.device,
  });
  return { task, evaluate, evaluateEvery: every };
}

export async function main(values: Values): Promise<void> {
  if (values.preset === undefined && !values.resume) throw new CliUsageError(`--preset is required (one of ${PRESET_NAMES.join(', ')}), except with --resume`, '--preset');
  if (values.taskModule !== undefined) await import(taskModuleUrl(values.taskModule));
  const out = resolve(values.out ?? `gpt-train-${values.preset ?? basename(values.data)}`);
  const log = (line: string): void => {
    if (!values.json) process.stdout.write(`${line}\n`);
  };
  log(describeRuntime().replace(/^device [^;]+/, `device ${values.device}`)); // the run's device, not the default one

  const interrupt = abortOnSigint(); // Ctrl-C: the trainer saves the last step, then stops

  let display: ProgressDisplay | undefined;
  let step = 0;
  const onProgress = (event: TrainEvent): void => {
    if (event.type === 'step' || event.type === 'start') step = event.step;
    if (values.json) {
      process.stdout.write(`${JSON.stringify(event)}\n`);
      return;
    }
    switch (event.type) {
      case 'data':
        log(`task ${event.task} on ${event.dataset}: ${event.trainRuns} training runs, ${event.testRuns} held out, D = ${event.parameterCount}`);
        break;
      case 'normalization-progress':
        display ??= new ProgressDisplay({ label: 'normalize', total: event.total });
        display.update({ done: event.done });
        break;
      case 'normalization':
        display?.finish();
        display = undefined;
        log(event.restored ? `normalization constant ${event.coefficient.toPrecision(6)} (restored)` : `normalization constant ${event.coefficient.toPrecision(6)} (0.538 / std ${event.std!.toPrecision(4)} over ${event.numSamples} checkpoints)`);
        break;
      case 'start':
        step = event.step;
        log(`${event.resumed ? `resuming at step ${event.step}` : 'training'}: ${(event.modelParameters / 1e6).toFixed(2)}M-parameter G.pt on ${event.device}, batch ${event.batchSize}, ${event.stepsPerEpoch} steps per epoch, to step ${event.totalSteps}; state and log in ${out}`);
        display = new ProgressDisplay({ label: 'train', total: event.totalSteps, initialDone: event.step });
        break;
      case 'step':
        step = event.step;
        display?.update({ done: event.step, ratePerSecond: event.stepsPerSecond, etaSeconds: event.etaSeconds, text: `loss ${event.loss.toPrecision(4)} lr ${event.lr.toExponential(2)} ${event.pairsPerSecond.toFixed(1)} pairs/s` });
        break;
      case 'eval': {
        const parts = [event.heldOutLoss === null ? null : `held-out loss ${event.heldOutLoss.toPrecision(4)}`, event.score === null ? null : `score ${event.score.toPrecision(4)}`].filter(Boolean);
        (display ? display.log.bind(display) : log)(`step ${event.step}: ${parts.join(', ')}${event.best ? ' (best)' : ''}`);
        break;
      }
      case 'done':
        display?.finish();
        display = undefined;
        if (!event.aborted) log(`trained to step ${event.step} in ${formatDuration(event.elapsedSeconds)}; the EMA model is in ${out} (loadTrainedGpt; --resume continues)`);
        break;
      default:
        break;
    }
  };

  try {
    const alignment = await alignmentHook(values, out);
    const result = await trainGpt({ ...trainOptions(values, out), ...alignment, signal: interrupt.signal, onProgress });
    if (result.lossPlot) log(`loss curves: ${result.lossPlot}`);
    const best = await resolveCheckpointDir(out, 'best').then(readSavedState, () => null);
    if (best?.best) log(`best checkpoint: step ${best.best.step}, ${best.best.by === 'score' ? 'prompt alignment' : 'held-out loss'} ${best.best.value.toPrecision(4)} (best.json)`);
  } catch (error) {
    display?.finish();
    if (interrupt.signal.aborted) {
      const saved = await readPointer(out, 'latest').catch(() => null);
      process.stderr.write(
        saved === null
          ? `gpt train: interrupted before the first step was saved; nothing to resume in ${out}.\n`
          : `gpt train: interrupted at step ${step}; the state is saved in ${out}. Run the same command with --resume to continue.\n`,
      );
      process.exitCode = 130;
      return;
    }
    throw taskUsageError(error, values.taskModule !== undefined);
  } finally {
    interrupt.dispose();
  }
}
