import { defineConfig } from 'tsup';

export default defineConfig({
  entry: {"index":"src/index.ts","data":"src/data.ts","data-node":"src/data-node.ts"},
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // Shared chunks in CJS too, so every entry of a package sees the same module state.
  splitting: true,
});
