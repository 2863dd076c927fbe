// `pnpm gpt <command> [options]` and `pnpm demo` (= `pnpm gpt demo`): runs the `gpt` command
// line of @gpt/g-pt from the sources (the "@gpt/source" condition, TypeScript through tsx),
// after building the WASM kernels if they are missing or stale, so that a fresh clone runs
// the demo on the fast kernels without a `pnpm build`.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureWasmBuilt } from '../packages/tensor/scripts/ensure-wasm.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'packages', 'g-pt', 'src', 'cli', 'bin.ts');

async function main() {
  try {
    ensureWasmBuilt({ log: (line) => process.stderr.write(`${line}\n`) });
  } catch (error) {
    // gpt still runs, on the TypeScript kernels; its runtime line says so.
    process.stderr.write(`${error.message}\ncontinuing without the WASM kernels\n`);
  }
  const child = spawn(process.execPath, ['--conditions=@gpt/source', '--import', 'tsx', BIN, ...process.argv.slice(2)], { cwd: process.cwd(), stdio: 'inherit' });
  // Ctrl-C reaches the child too (same process group); gpt stops itself and reports.
  process.on('SIGINT', () => {});
  process.exitCode = await new Promise((resolve) => child.on('close', (code, signal) => resolve(signal ? 1 : (code ?? 1))));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
