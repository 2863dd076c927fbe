import { defineConfig } from 'tsup';
import { inlineWasmKernels } from './scripts/inline-wasm-kernels.js';

export default defineConfig({
  entry: {"index":"src/index.ts","ndarray":"src/ndarray.ts","webgpu":"src/webgpu.ts","webgpu-node":"src/webgpu-node.ts"},
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  esbuildPlugins: [inlineWasmKernels(new URL('./build', import.meta.url).pathname)],
});
