import { defineConfig } from 'tsup';
import { inlineWasmKernels } from './scripts/inline-wasm-kernels.js';

export default defineConfig({
  entry: {"index":"src/index.ts","internal":"src/internal.ts","ndarray":"src/ndarray.ts","webgpu":"src/webgpu.ts","webgpu-node":"src/webgpu-node.ts"},
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'es2022',
  // Shared chunks for CJS too: without them each CJS entry (webgpu-node, ndarray,
  // internal) would carry its own copy of the engine, and a backend registered there
  // (or a GRADIENTS rule patched through @gpt/tensor/internal) would be invisible to
  // require('@gpt/tensor').
  splitting: true,
  esbuildPlugins: [inlineWasmKernels(new URL('./build', import.meta.url).pathname)],
});
