// Entry point of `pnpm bench <name> [--json] [...]`: runs benchmarks/<name>.ts.
// Each benchmark module exports `main(args: string[])` and prints a table, or one
// JSON object per line when --json is given. Benchmarks are never part of the tests.
import { readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'util.ts'].includes(f) && !f.endsWith('.d.ts'))
  .map((f) => f.slice(0, -3));

const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  console.error(`usage: pnpm bench <${available.join('|')}> [--json]`);
  process.exit(name ? 1 : 0);
}
const mod = (await import(pathToFileURL(join(here, `${name}.ts`)).href)) as {
  main: (args: string[]) => Promise<void> | void;
};
await mod.main(args);
