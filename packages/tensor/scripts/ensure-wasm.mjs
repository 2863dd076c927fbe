// Builds the WASM kernels (scripts/build-wasm.mjs) when build/ lacks them or they are older
// than their sources, and does nothing otherwise (a few stat calls). Source-checkout runs
// (the demo, the examples, the tests) read the kernels from build/; without this they
// would fall back to the TypeScript kernels, many times slower.
//   node packages/tensor/scripts/ensure-wasm.mjs        build if stale (messages on stderr; silent when up to date)
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const WASM_FILES = ['kernels-shared.wasm', 'kernels-private.wasm'].map((name) => join(root, 'build', name));

function sources() {
  const assembly = join(root, 'assembly');
  return [...readdirSync(assembly).map((name) => join(assembly, name)), join(root, 'scripts', 'build-wasm.mjs')];
}

/** Why the kernels in build/ must be (re)built, or null when they are up to date. */
export function wasmStaleReason() {
  const newest = sources().reduce((best, file) => (statSync(file).mtimeMs > best.mtime ? { file, mtime: statSync(file).mtimeMs } : best), {
    file: '',
    mtime: 0,
  });
  for (const file of WASM_FILES) {
    if (!existsSync(file)) return `${relative(process.cwd(), file)} is missing`;
    if (statSync(file).mtimeMs < newest.mtime) return `${relative(process.cwd(), file)} is older than ${relative(process.cwd(), newest.file)}`;
  }
  return null;
}

/**
 * Builds the kernels if they are stale; returns the reason it built, or null. Throws
 * with the compiler's output when the build fails.
 * @param {{ log?: (line: string) => void }} [options]
 */
export function ensureWasmBuilt(options = {}) {
  const reason = wasmStaleReason();
  if (reason === null) return null;
  options.log?.(`building the WASM kernels (${reason})...`);
  const result = spawnSync(process.execPath, [join(root, 'scripts', 'build-wasm.mjs')], { cwd: root, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`the WASM kernel build (packages/tensor/scripts/build-wasm.mjs) failed:\n${result.stdout}${result.stderr}${result.error ?? ''}`);
  }
  return reason;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  // stderr only: this runs in front of commands whose stdout may be JSON (pnpm bench --json).
  ensureWasmBuilt({ log: (line) => console.error(line) });
}
