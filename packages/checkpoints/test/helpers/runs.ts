// Test helper: a small manifest and deterministic run data.
import { Generator } from '@gpt/tensor';
import { type DatasetManifest, type RunData, createManifest } from '../../src/index.js';

export const SMALL_MANIFEST: DatasetManifest = createManifest({
  task: 'toy',
  tensors: [
    { name: 'w', shape: [3, 4] },
    { name: 'b', shape: [3] },
  ],
  metrics: ['loss', 'err'],
  numTestRuns: 1,
});

/** A run of `n` checkpoints with values in [-1, 1) and metrics tied to the checkpoint index. */
export function makeRun(seed: number, n = 5, D = SMALL_MANIFEST.parameterCount): RunData {
  const parameters = Float32Array.from(new Generator(seed).uniform(n * D), (u) => u * 2 - 1);
  const iterations = Array.from({ length: n }, (_, k) => k * 10 + (k > 0 ? seed % 7 : 0));
  return {
    parameters,
    iterations,
    metrics: {
      loss: Array.from({ length: n }, (_, k) => 2.5 - k * 0.25 + seed),
      err: Array.from({ length: n }, (_, k) => 90 - k * 5),
    },
  };
}
