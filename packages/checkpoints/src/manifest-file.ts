// `manifest.json` on disk (Node only): reading with a clear error for a folder that is not
// a dataset (or whose manifest is a directory, a FIFO, empty, huge or not JSON), and atomic
// writes. What a valid manifest is lives in manifest.ts.
import { join } from 'node:path';
import { writeFileAtomic } from './atomic-write.js';
import { CheckpointFormatError } from './errors.js';
import { type DatasetManifest, MANIFEST_FILE, validateManifest } from './manifest.js';
import { readRegularFile } from './regular-file.js';

/** A manifest is a few KB (the tensor list and the generator settings); more is not a manifest. */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Reads `<dir>/manifest.json`, with a clear error when it is missing or malformed. */
export async function readManifest(dir: string): Promise<DatasetManifest> {
  const file = join(dir, MANIFEST_FILE);
  let bytes: Uint8Array;
  try {
    bytes = await readRegularFile(file, 'manifest', MAX_MANIFEST_BYTES);
  } catch (error) {
    if ((error as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT') {
      throw new CheckpointFormatError(file, 'missing manifest: this folder is not a checkpoint dataset (or its generation never started)', { cause: error });
    }
    throw error;
  }
  if (bytes.byteLength === 0) throw new CheckpointFormatError(file, 'manifest is empty (0 bytes)');
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch (error) {
    throw new CheckpointFormatError(file, 'manifest is not valid UTF-8 text', { cause: error });
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
