// esbuild plugin used by tsup.config.ts: replaces src/wasm/kernel-bytes.ts (which
// reads build/*.wasm from disk in the workspace) with a module holding the bytes
// of both kernel variants as base64, so the published bundle needs no file, fetch
// or compiler at run time and works the same in Node and in browsers.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Plugin } from 'esbuild';

export function inlineWasmKernels(buildDir: string): Plugin {
  return {
    name: 'inline-wasm-kernels',
    setup(build) {
      build.onLoad({ filter: /[\\/]src[\\/]wasm[\\/]kernel-bytes\.ts$/ }, () => {
        const encoded: Record<string, string> = {};
        for (const variant of ['shared', 'private']) {
          const file = join(buildDir, `kernels-${variant}.wasm`);
          if (!existsSync(file)) throw new Error(`${file} is missing: run scripts/build-wasm.mjs before tsup (the package's build script does)`);
          encoded[variant] = readFileSync(file).toString('base64');
        }
        const contents = `
export type KernelVariant = 'shared' | 'private';
const BASE64: Record<KernelVariant, string> = ${JSON.stringify(encoded)};
export function kernelBytes(variant: KernelVariant): Uint8Array {
  const text = atob(BASE64[variant]);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}
`;
        return { contents, loader: 'ts' };
      });
    },
  };
}
