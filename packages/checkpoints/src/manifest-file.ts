// `manifest.json` on disk (Node only): reading with a clear error for a folder that is not
// a dataset, and atomic writes. What a valid manifest is lives in manifest.ts.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { CheckpointFormatError } from './errors.js';
import { type DatasetManifest, MANIFEST_FILE, validateManifest } from './manifest.js';

/** Reads `<dir>/manifest.json`, with a clear error when it is missing or malformed. */
export async function readManifest(dir: string): Promise<DatasetManifest> {
  const file = join(dir, MANIFEST_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CheckpointFormatError(file, 'missing manifest: this folder is not a checkpoint dataset (or its generation never started)', { cause: error });
    }
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CheckpointFormatError(file, `manifest is not valid JSON (${(error as Error).message})`, { cause: error });
  }
  return validateManifest(json, file);
}

export async function writeManifest(dir: string, manifest: DatasetManifest): Promise<void> {
  const text = `${JSON.stringify(manifest, null, 2)}\n`;
  await writeFileAtomic(join(dir, MANIFEST_FILE), [new TextEncoder().encode(text)]);
}
