import { defineConfig } from 'tsup';

export default defineConfig({
  // data-worker: the worker thread of dataset generation (src/data/trainers.ts starts it beside its own chunk).
  entry: {"index":"src/index.ts","cli":"src/cli.ts","data-worker":"src/data/worker.ts","gpt":"src/cli/bin.ts"},
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // Shared chunks in CJS too, so every entry of a package sees the same module state.
  splitting: true,
  // import.meta.url in the CommonJS build (trainers.ts finds the worker file from it).
  shims: true,
});
