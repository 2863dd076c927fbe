// Timing GPU work for `pnpm bench gpu`: calls are recorded in batches and the batch ends with one
// wait for the GPU, so a row's time is the GPU's work plus at most one submit-and-wait per batch,
// not one per call. benchmarks/gpu_torch.py times the PyTorch side the same way.

import { median } from '../util.js';

/** Most calls recorded between two waits for the GPU. */
const MAX_INNER = 10;
/** About how long one batch should take: calls whose single run is shorter are batched. */
const BATCH_SECONDS = 0.25;

export interface Timed {
  /** Median milliseconds per call over the timed batches. */
  ms: number;
  /** Calls per batch. */
  inner: number;
  /** Batches timed (fewer than asked when the deadline came first). */
  reps: number;
}

/**
 * Times `call` (which records work, or runs a whole step and waits for it): one warm-up call
 * (pipelines compile, buffers are pooled), one call timed alone to size the batches, then
 * `reps` batches, each ending with `sync()`. Stops after the first batch once `deadline`
 * (a performance.now() value) has passed.
 */
export async function timeCalls(call: () => unknown, sync: () => Promise<void>, reps: number, deadline: number): Promise<Timed> {
  await call();
  await sync();
  let start = performance.now();
  await call();
  await sync();
  const single = (performance.now() - start) / 1000;
  const inner = Math.max(1, Math.min(MAX_INNER, Math.round(BATCH_SECONDS / Math.max(single, 1e-9))));
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    if (times.length > 0 && performance.now() > deadline) break;
    start = performance.now();
    for (let i = 0; i < inner; i++) await call();
    await sync();
    times.push((performance.now() - start) / inner);
  }
  return { ms: median(times), inner, reps: times.length };
}
