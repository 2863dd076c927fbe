// Writing an example's JSON result next to its plots: pretty-printed, atomically (an
// interrupted run leaves the previous file whole), non-finite numbers as null like
// JSON.stringify does. Shared by the evaluation examples.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@gpt/checkpoints/node';

export async function writeJson(dir: string, name: string, value: unknown): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  await writeFileAtomic(path, [new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`)]);
  return path;
}
