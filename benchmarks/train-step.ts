// `pnpm bench train-step [--json] [--impl NAME] [--reps N] [--rounds R]`: milliseconds
// for one G.pt-shaped training step (forward, backward, AdamW; see
// train-step/model/gpt-train-step.ts, @gpt/transformer's Gpt) for every implementation in
// benchmarks/train-step/*.ts (each file is one column, so a new backend adds a file
// and edits nothing here). Each row also gives its ratio to the fastest PyTorch
// configuration (one thread or all cores) measured in the same run, when PyTorch is
// installed. The columns take turns over R rounds (the order rotating), each round
// timing the median of N steps per column, so that a shared machine's load changes
// reach every column alike: `ms` is the median over rounds, and the ratio the median
// of the per-round ratios. `step_peak_MiB` is the peak of live tensor bytes during one
// step above the bytes live before it (what the tape, activations and gradients add).
// `matmul_ms` is the time of one step spent inside the CPU backend's GEMM (every matmul and
// its gradients), measured by wrapping that kernel during the timed steps themselves (median
// over steps), and `outside_pct` the rest's share of the step (the median over the timed
// steps of 1 - GEMM time / step time, so both parts of a ratio come from one step); `fwd_ms` is the
// median time of the forward pass alone (no tape), for columns that run in this process;
// `tokens_s` is sequence tokens trained per second (batch x sequence length / step time).
// `--model mnist-paper` times the paper's MNIST model at batch 8 instead of the default.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliUsageError, defineCli, describeRuntime, type CliValues } from '@gpt/g-pt/cli';
import { getDefaultDevice, memory, resetPeakMemory } from '@gpt/tensor';
import { cpuBackend } from '@gpt/tensor/internal';
import { chooseColumns, loadColumns, type Column } from './helpers/columns.js';
import { TRAIN_STEP_MODELS, type PreparedStep, type TrainStepConfig } from './train-step/model/gpt-train-step.js';
import { JSON_OPTION, median, medianSeconds, report, type Row } from './util.js';

/** One column of the table. Files in benchmarks/train-step/ default-export one of these (or an array). */
export interface TrainStepImpl extends Column {
  /** Returns one training step for the harness to time (awaiting completion). */
  prepare?(config: TrainStepConfig): Promise<PreparedStep>;
  /** Returns the forward pass alone (no gradients), for the fwd_ms column. */
  prepareForward?(config: TrainStepConfig): Promise<PreparedStep>;
  /** For steps timed elsewhere (another process): the median seconds of `reps` steps. */
  measure?(config: TrainStepConfig, reps: number): Promise<number>;
  teardown?(): Promise<void>;
}

/** Columns whose fastest time the ratios refer to. */
const BASELINES = ['pytorch-1t', 'pytorch-mt'];

export const cli = defineCli({
  name: 'pnpm bench train-step',
  summary: 'Milliseconds for one G.pt-shaped training step (forward, backward, AdamW), one column per benchmarks/train-step/*.ts.',
  options: {
    impl: { type: 'string', placeholder: 'NAME,...', description: 'only these columns (default: all)' },
    reps: { type: 'integer', default: 7, min: 1, description: 'timed steps per column and round (the median is kept)' },
    rounds: { type: 'integer', default: 3, min: 1, description: 'rounds the columns take turns over' },
    model: {
      type: 'string',
      default: 'cartpole',
      placeholder: 'NAME',
      description: `${Object.keys(TRAIN_STEP_MODELS).join(' | ')}: Cartpole tokens at d 256 x 4 layers, batch 64 (default), or the paper's MNIST G.pt (d 1536 x 12 layers, ≈378M parameters) at batch 8`,
    },
    json: JSON_OPTION,
  },
});

interface Timing {
  seconds: number;
  /** Peak live tensor bytes during one step above those live before it (tape, activations, gradients); null when timed in another process. */
  stepPeakBytes: number | null;
  /** Median seconds of a step inside the CPU GEMM; null off the CPU or in another process. */
  matmulSeconds: number | null;
  /** Median over the timed steps of the share of the step outside the GEMM; null as matmulSeconds. */
  outsideShare: number | null;
  /** Median seconds of the forward pass alone; null when the column has none. */
  forwardSeconds: number | null;
}

/** Per timed step: its seconds and the seconds spent inside the CPU backend's GEMM (0 off the CPU). */
async function timeSteps(step: () => Promise<unknown> | unknown, reps: number, warmup: number): Promise<{ seconds: number[]; gemmSeconds: number[] }> {
  for (let i = 0; i < warmup; i++) await step();
  const inner = cpuBackend.gemm;
  let inGemm = 0;
  cpuBackend.gemm = (...args: Parameters<typeof inner>) => {
    const start = performance.now();
    try {
      return inner(...args);
    } finally {
      inGemm += performance.now() - start;
    }
  };
  const seconds: number[] = [];
  const gemmSeconds: number[] = [];
  try {
    for (let i = 0; i < reps; i++) {
      inGemm = 0;
      const start = performance.now();
      await step();
      seconds.push((performance.now() - start) / 1000);
      gemmSeconds.push(inGemm / 1000);
    }
  } finally {
    cpuBackend.gemm = inner;
  }
  return { seconds, gemmSeconds };
}

async function time(impl: TrainStepImpl, config: TrainStepConfig, reps: number): Promise<Timing> {
  if (impl.measure) return { seconds: await impl.measure(config, reps), stepPeakBytes: null, matmulSeconds: null, outsideShare: null, forwardSeconds: null };
  const step = await impl.prepare!(config);
  // One untimed step first; a very slow implementation (seconds per step) gets one timed step.
  const start = performance.now();
  await step();
  const first = (performance.now() - start) / 1000;
  const slow = first > 5;
  const timed = slow ? await timeSteps(step, 1, 0) : await timeSteps(step, reps, 1);
  // One more step for memory: every live tensor counts, so measure above what was live before it.
  const before = memory().bytes;
  resetPeakMemory();
  await step();
  const stepPeakBytes = memory().peakBytes - before;
  step.dispose();
  const onCpu = getDefaultDevice() === 'cpu';
  const forward = impl.prepareForward ? await impl.prepareForward(config) : null;
  const forwardSeconds = forward ? (slow ? await medianSeconds(forward, 1, 1) : await medianSeconds(forward, reps, 1)) : null;
  forward?.dispose();
  return {
    seconds: median(timed.seconds),
    stepPeakBytes,
    matmulSeconds: onCpu ? median(timed.gemmSeconds) : null,
    outsideShare: onCpu ? median(timed.seconds.map((s, i) => 1 - timed.gemmSeconds[i]! / s)) : null,
    forwardSeconds,
  };
}

export async function main(options: CliValues<typeof cli.options>): Promise<void> {
  const { reps, rounds } = options;
  const config = (TRAIN_STEP_MODELS as Record<string, TrainStepConfig>)[options.model];
  if (!config) throw new CliUsageError(`--model takes ${Object.keys(TRAIN_STEP_MODELS).join(' or ')}, got "${options.model}"`, '--model');
  const chosen = chooseColumns(await loadColumns<TrainStepImpl>(join(dirname(fileURLToPath(import.meta.url)), 'train-step')), options.impl, 'train-step');
  process.stderr.write(`train-step: ${describeRuntime()}\n`);
  const skipped = new Map<string, string>();
  const seconds = new Map<string, number[]>(chosen.map((i) => [i.name, []]));
  const stepPeakBytes = new Map<string, number | null>();
  const matmulSeconds = new Map<string, number[]>(chosen.map((i) => [i.name, []]));
  const outsideShares = new Map<string, number[]>(chosen.map((i) => [i.name, []]));
  const forwardSeconds = new Map<string, number[]>(chosen.map((i) => [i.name, []]));
  for (let round = 0; round < rounds; round++) {
    const order = chosen.map((_, k) => chosen[(k + round) % chosen.length]!);
    for (const impl of order.filter((i) => !skipped.has(i.name))) {
      const reason = await impl.setup();
      if (reason) {
        skipped.set(impl.name, reason);
        continue;
      }
      const timing = await time(impl, config, reps);
      seconds.get(impl.name)!.push(timing.seconds);
      stepPeakBytes.set(impl.name, timing.stepPeakBytes);
      if (timing.matmulSeconds !== null) matmulSeconds.get(impl.name)!.push(timing.matmulSeconds);
      if (timing.outsideShare !== null) outsideShares.get(impl.name)!.push(timing.outsideShare);
      if (timing.forwardSeconds !== null) forwardSeconds.get(impl.name)!.push(timing.forwardSeconds);
      await impl.teardown?.();
    }
    process.stderr.write(`train-step: round ${round + 1}/${rounds} done\n`);
  }
  const timed = chosen.filter((i) => !skipped.has(i.name));
  // The fastest baseline by median, and each column's per-round ratio to it.
  const baseline = timed
    .filter((i) => BASELINES.includes(i.name))
    .sort((a, b) => median(seconds.get(a.name)!) - median(seconds.get(b.name)!))[0];
  const rows: Row[] = chosen.map((impl) => {
    const reason = skipped.get(impl.name);
    if (reason) return { bench: 'train-step', impl: impl.name, ms: null, note: reason };
    const times = seconds.get(impl.name)!;
    const peak = stepPeakBytes.get(impl.name);
    const row: Row = {
      bench: 'train-step',
      impl: impl.name,
      ms: median(times) * 1000,
      rounds: times.map((t) => (t * 1000).toFixed(0)).join('/'),
      step_peak_MiB: peak == null ? null : peak / 2 ** 20,
      matmul_ms: matmulSeconds.get(impl.name)!.length ? median(matmulSeconds.get(impl.name)!) * 1000 : null,
      outside_pct: outsideShares.get(impl.name)!.length ? median(outsideShares.get(impl.name)!) * 100 : null,
      fwd_ms: forwardSeconds.get(impl.name)!.length ? median(forwardSeconds.get(impl.name)!) * 1000 : null,
      tokens_s: (config.batch * config.inputSplits.length) / median(times),
    };
    if (baseline) {
      const base = seconds.get(baseline.name)!;
      row[`x_${baseline.name}`] = median(times.map((t, r) => t / base[r]!));
    }
    return row;
  });
  report(rows, options.json);
}
