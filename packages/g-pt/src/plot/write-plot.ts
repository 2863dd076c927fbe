// Writing a rendered chart to disk (Node only): a folder of plots next to the JSON results.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '@gpt/checkpoints/node';

/**
 * Writes `svg` to `<dir>/<name>.svg` (".svg" added when missing), creating `dir`. The file
 * appears whole or not at all (atomic rename), so an interrupted run leaves the previous
 * plot intact. Returns the path written.
 */
export async function writePlot(dir: string, name: string, svg: string): Promise<string> {
  if (!/^[\w.-]+$/.test(name) || name.startsWith('.')) {
    throw new Error(`writePlot: name "${name}" must be a plain file name (letters, digits, '_', '-', '.'; no folders)`);
  }
  if (!svg.trimStart().startsWith('<svg')) throw new Error(`writePlot: the content for "${name}" is not SVG text`);
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name.endsWith('.svg') ? name : `${name}.svg`);
  await writeFileAtomic(path, [new TextEncoder().encode(svg)]);
  return path;
}
