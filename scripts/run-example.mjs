// `pnpm example <name> [options]`: runs
// examples/<name>/main.ts from the sources (the "@gpt/source" condition, TypeScript through
// tsx), after building the WASM kernels if they are missing or stale, so that a fresh clone
// runs on the fast kernels without a `pnpm build`. Options after the name go to the example;
// `pnpm example <name> --help` lists them.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureWasmBuilt } from '../packages/tensor/scripts/ensure-wasm.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EXAMPLES = join(ROOT, 'examples');

/** Folders of examples/ that hold a main.ts. */
export function listExamples() {
  return readdirSync(EXAMPLES, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(EXAMPLES, d.name, 'main.ts')))
    .map((d) => d.name)
    .sort();
}

function usage() {
  return `usage: pnpm example <name> [options]   (pnpm example <name> --help lists its options)\nexamples: ${listExamples().join(', ')}\n`;
}

async function main() {
  const [name, ...args] = process.argv.slice(2);
  if (name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return;
  }
  if (!name || !listExamples().includes(name)) {
    process.stderr.write(`${name ? `unknown example "${name}"\n` : ''}${usage()}`);
    process.exitCode = 2;
    return;
  }
  try {
    ensureWasmBuilt({ log: (line) => process.stderr.write(`${line}\n`) });
  } catch (error) {
    // The example still runs, on the TypeScript kernels; its runtime line says so.
    process.stderr.write(`${error.message}\ncontinuing without the WASM kernels\n`);
  }
  const child = spawn(process.execPath, ['--conditions=@gpt/source', '--import', 'tsx', join(EXAMPLES, name, 'main.ts'), ...args], {
    cwd: ROOT,
    stdio: 'inherit',
  });
  // Ctrl-C reaches the child too (same process group); the example stops itself and reports.
  process.on('SIGINT', () => {});
  const code = await new Promise((resolve) => child.on('close', (c, signal) => resolve(signal ? 1 : (c ?? 1))));
  process.exitCode = code;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
