// Resuming a run: its options come from the saved state (task, config, plan); what the
// caller gives again must agree with it, since a resumed run keeps its configuration.
import { trainPreset } from './presets.js';
import { resolveTrainConfig, type TrainConfig, type TrainConfigInput } from './train-config.js';
import type { SavedTrainState } from './train-state.js';
import type { TrainGptOptions } from './trainer.js';

/** The options of a resumed run: the saved task, config and plan; what the caller gives must agree. */
export function resumeOptions(options: TrainGptOptions, saved: SavedTrainState): TrainGptOptions {
  const where = `trainGpt: resume from "${options.out}"`;
  const taskName = typeof options.task === 'string' ? options.task : options.task?.name;
  if (taskName !== undefined && taskName !== saved.task) throw new Error(`${where}: the saved run trains task "${saved.task}", not "${taskName}"`);
  const given = options.preset !== undefined || CONFIG_KEYS.some((k) => options[k] !== undefined);
  if (given) {
    const preset = options.preset === undefined ? undefined : typeof options.preset === 'string' ? trainPreset(options.preset) : options.preset;
    const config = resolveTrainConfig(preset?.config ?? {}, options, where);
    const differing = (Object.keys(config) as (keyof TrainConfig)[]).filter((k) => JSON.stringify(config[k]) !== JSON.stringify(saved.config[k]));
    if (differing.length > 0) {
      const show = (k: keyof TrainConfig) => `${k}: saved ${JSON.stringify(saved.config[k])}, given ${JSON.stringify(config[k])}`;
      throw new Error(`${where}: a resumed run keeps its configuration, and these differ: ${differing.map(show).join('; ')}`);
    }
  }
  const { preset: _preset, init: _init, ...rest } = options;
  return {
    ...rest,
    ...saved.config,
    task: typeof options.task === 'object' ? options.task : saved.task,
    steps: options.steps ?? saved.plan.totalSteps,
    evalEvery: options.evalEvery ?? saved.plan.evalEvery,
    evalPairs: saved.plan.evalPairs,
    evaluateEvery: options.evaluateEvery ?? saved.plan.evaluateEvery,
  };
}

const CONFIG_KEYS = ['model', 'batchSize', 'lr', 'weightDecay', 'betas', 'gradClip', 'schedule', 'epochSize', 'ema', 'diffusionSteps', 'noiseSchedule', 'normalizationSamples', 'seed'] as const satisfies readonly (keyof TrainConfigInput)[];
