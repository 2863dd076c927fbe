// What every task shares about runs: how run r's random streams derive from r alone, which
// iterations a run saves (gpt-paper.md §1.5: the initialization, a seeded uniform choice
// without replacement of checkpointsPerRun - 2 iterations from 1..T-1, and the final one T),
// and the checks on run indices and checkpoint counts.
//
// Order of random draws of run r (any trainer of a task must follow it exactly, which is
// how the batched trainer reproduces the one-by-one runs):
//   1. root = new Generator(r); three child seeds in this order, each root.nextSeed():
//      initSeed, scheduleSeed, dataSeed.
//   2. The network is createNetwork(new Generator(initSeed)) (its layers draw in
//      construction order, e.g. fc1.weight, fc1.bias, fc2.weight, fc2.bias).
//   3. The saved iterations come from new Generator(scheduleSeed): one
//      permutation(T - 1) (Fisher-Yates), whose first checkpointsPerRun - 2 entries plus 1
//      are the intermediate iterations (then sorted), plus 0 and T.
//   4. The data stream new Generator(dataSeed) drives training (supervised tasks: one
//      permutation of the training set per epoch, then each batch's augmentation draws).
//      Cartpole instead runs trainPpo with seed initSeed, whose generator draws the policy
//      first (step 2's network), then the critic, the environment seeds and the action noise.
import { Generator } from '@gpt/tensor';

export interface RunStreams {
  readonly initSeed: number;
  readonly scheduleSeed: number;
  readonly dataSeed: number;
}

/** The seeds of run `run`'s three random streams (see the draw order above). */
export function runStreams(run: number): RunStreams {
  const root = new Generator(run);
  const initSeed = root.nextSeed();
  const scheduleSeed = root.nextSeed();
  const dataSeed = root.nextSeed();
  return { initSeed, scheduleSeed, dataSeed };
}

/**
 * The iterations a run saves, increasing: 0, checkpointsPerRun - 2 distinct iterations drawn
 * uniformly from 1..totalIterations-1, and totalIterations. Uses `generator` for one
 * permutation(totalIterations - 1).
 */
export function savedIterations(generator: Generator, totalIterations: number, checkpointsPerRun: number): Int32Array {
  checkCheckpointsPerRun(checkpointsPerRun, totalIterations);
  const between = checkpointsPerRun - 2;
  const chosen = totalIterations > 1 ? generator.permutation(totalIterations - 1).subarray(0, between) : new Int32Array(0);
  const saved = new Int32Array(checkpointsPerRun);
  saved[0] = 0;
  for (let i = 0; i < between; i++) saved[i + 1] = chosen[i]! + 1;
  saved.subarray(1, 1 + between).sort();
  saved[checkpointsPerRun - 1] = totalIterations;
  return saved;
}

/** checkpointsPerRun must fit the run: at least 2 (init and final) and at most totalIterations + 1. */
export function checkCheckpointsPerRun(checkpointsPerRun: number, totalIterations: number): void {
  if (!Number.isSafeInteger(checkpointsPerRun) || checkpointsPerRun < 2) {
    throw new Error(`checkpointsPerRun must be an integer >= 2 (the initialization and the final iteration), got ${checkpointsPerRun}`);
  }
  if (checkpointsPerRun > totalIterations + 1) {
    throw new Error(`checkpointsPerRun ${checkpointsPerRun} is more than the run's ${totalIterations} iterations + 1 (the initialization) can give`);
  }
}

/** Run indices must be non-negative safe integers (run r is seeded by r). */
export function checkRuns(where: string, runs: readonly number[]): void {
  if (!Array.isArray(runs)) throw new Error(`${where}: runs must be an array of run indices, got ${String(runs)}`);
  for (const [i, run] of runs.entries()) {
    if (!Number.isSafeInteger(run) || run < 0) throw new Error(`${where}: runs[${i}] must be a non-negative integer, got ${String(run)}`);
  }
}

/** Lets timers, signals and other work in; long synchronous training calls this between chunks. */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
