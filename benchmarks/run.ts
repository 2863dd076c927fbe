// Entry point of `pnpm bench <name> [options]`: runs benchmarks/<name>.ts. Each benchmark
// module exports `cli` (its options, @gpt/g-pt/cli) and `main(options)`, and prints a
// table, or one JSON object per line with --json; `pnpm bench <name> --help` lists the
// options. Benchmarks are never part of the tests.
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { runCli, type CliSpec, type CliValues } from '@gpt/g-pt/cli';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'util.ts'].includes(f) && !f.endsWith('.d.ts'))
  .map((f) => f.slice(0, -3));

const usage = `usage: pnpm bench <name> [options]   (pnpm bench <name> --help lists its options)\nbenchmarks: ${available.join(', ')}\n`;
const [name, ...args] = process.argv.slice(2);
if (name === '--help' || name === '-h') {
  process.stdout.write(usage);
} else if (!name || !available.includes(name)) {
  process.stderr.write(`${name ? `unknown benchmark "${name}"\n` : ''}${usage}`);
  process.exitCode = 2;
} else {
  const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as {
    cli: CliSpec;
    main: (options: CliValues<CliSpec['options']>) => Promise<void> | void;
  };
  await runCli(mod.cli, mod.main, args);
}
