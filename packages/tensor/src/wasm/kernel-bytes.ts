// Where the compiled WASM kernels come from. `pnpm build` compiles assembly/ into
// build/kernels-shared.wasm (memory shared with the worker pool) and
// build/kernels-private.wasm (plain memory, for hosts without SharedArrayBuffer).
// In the workspace (tests and benchmarks run src/ through the "@gpt/source"
// condition) this module reads those files; the published bundle replaces it with
// the bytes inlined (see tsup.config.ts), so users never read, download or compile
// anything but the module itself.

export type KernelVariant = 'shared' | 'private';

interface NodeFs {
  readFileSync(path: URL): Uint8Array;
}

/** Returns the module's bytes; throws an Error whose message says why they are unavailable. */
export function kernelBytes(variant: KernelVariant): Uint8Array {
  const url = new URL(`../../build/kernels-${variant}.wasm`, import.meta.url);
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const fs = proc?.getBuiltinModule?.('node:fs') as NodeFs | undefined;
  if (!fs) throw new Error('the WASM kernels are read from build/ only in Node >= 20.16 (source checkout); use the built package elsewhere');
  try {
    return fs.readFileSync(url);
  } catch (error) {
    throw new Error(`${url.pathname} is missing: run \`pnpm build\` in packages/tensor (${(error as Error).message.split('\n')[0]})`);
  }
}
