// `pnpm bench train-step [--json] [--impl NAME] [--reps N]`: milliseconds for one
// G.pt-shaped training step (forward, backward, AdamW; see
// train-step/model/gpt-backbone.ts) for every implementation in
// benchmarks/train-step/*.ts (each file is one column, so a new backend adds a file
// and edits nothing here). Each row also gives its ratio to the fastest PyTorch
// configuration (one thread or all cores) measured in the same run, when PyTorch is
// installed.

import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GPT_CARTPOLE, type TrainStepConfig } from './train-step/model/gpt-backbone.js';
import { medianSeconds, report, type Row } from './util.js';

/** One column of the table. Files in benchmarks/train-step/ default-export one of these (or an array). */
export interface TrainStepImpl {
  name: string;
  /** Returns null when ready, or the reason this implementation is skipped here. */
  setup(): Promise<string | null>;
  /** Returns one training step for the harness to time (awaiting completion). */
  prepare?(config: TrainStepConfig): Promise<() => Promise<unknown> | unknown>;
  /** For steps timed elsewhere (another process): the median seconds of `reps` steps. */
  measure?(config: TrainStepConfig, reps: number): Promise<number>;
  teardown?(): Promise<void>;
}

/** Columns whose fastest time the ratios refer to. */
const BASELINES = ['pytorch-1t', 'pytorch-mt'];

function option(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

async function time(impl: TrainStepImpl, config: TrainStepConfig, reps: number): Promise<number> {
  if (impl.measure) return impl.measure(config, reps);
  const step = await impl.prepare!(config);
  // One untimed step first; a very slow implementation (seconds per step) gets one timed step.
  const start = performance.now();
  await step();
  const first = (performance.now() - start) / 1000;
  return first > 5 ? medianSeconds(step, 1, 0) : medianSeconds(step, reps, 1);
}

export async function main(args: string[]): Promise<void> {
  const only = option(args, '--impl');
  const reps = Number(option(args, '--reps') ?? 7);
  const config = GPT_CARTPOLE;
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'train-step');
  const impls: TrainStepImpl[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
    const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default: TrainStepImpl | TrainStepImpl[] };
    impls.push(...[mod.default].flat());
  }
  const rows: Row[] = [];
  for (const impl of impls.filter((i) => !only || only.split(',').includes(i.name))) {
    const skipped = await impl.setup();
    if (skipped) {
      rows.push({ bench: 'train-step', impl: impl.name, ms: null, note: skipped });
      continue;
    }
    const seconds = await time(impl, config, reps);
    rows.push({ bench: 'train-step', impl: impl.name, ms: seconds * 1000 });
    await impl.teardown?.();
  }
  const baselines = rows.filter((r) => BASELINES.includes(String(r.impl)) && typeof r.ms === 'number');
  const fastest = baselines.sort((a, b) => (a.ms as number) - (b.ms as number))[0];
  if (fastest) {
    for (const row of rows) if (typeof row.ms === 'number') row[`x_${String(fastest.impl)}`] = row.ms / (fastest.ms as number);
  }
  report(rows, args);
}
