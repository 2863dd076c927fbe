// Loading the columns of a table benchmark: each file of benchmarks/<bench>/ default-exports
// one column (or an array). A file that cannot even be imported (an optional library
// missing, a native addon that does not load) becomes a column named after the file that
// is skipped with the import error as its reason, so one absent library never stops a run.

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CliUsageError } from '@gpt/g-pt/cli';

export interface Column {
  name: string;
  /** Returns null when ready, or the reason this column is skipped here. */
  setup(): Promise<string | null>;
}

export async function loadColumns<T extends Column>(dir: string): Promise<T[]> {
  const columns: T[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
    try {
      const mod = (await import(pathToFileURL(join(dir, file)).href)) as { default: T | T[] };
      columns.push(...(Array.isArray(mod.default) ? mod.default : [mod.default]));
    } catch (error) {
      const reason = `could not load ${file}: ${(error as Error).message.split('\n')[0]}`;
      // Only setup() is ever called on a column whose setup gives a reason.
      columns.push({ name: file.slice(0, -'.ts'.length), setup: async () => reason } as T);
    }
  }
  return columns;
}

/** The columns named in a comma-separated --impl list (all when absent); an unknown name is an error listing the known ones. */
export function chooseColumns<T extends Column>(columns: readonly T[], impl: string | undefined, bench: string): T[] {
  if (impl === undefined) return [...columns];
  const names = impl.split(',');
  const unknown = names.filter((name) => !columns.some((c) => c.name === name));
  if (unknown.length > 0) throw new CliUsageError(`unknown --impl ${unknown.join(', ')} for ${bench}; known: ${columns.map((c) => c.name).join(', ')}`, '--impl');
  return columns.filter((c) => names.includes(c.name));
}
