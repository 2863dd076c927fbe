// Reading run files' headers from disk (Node only), bounded: a run file's header lists
// three tensors per metric at most plus a little metadata, so it is refused beyond
// MAX_RUN_HEADER_BYTES before anything that large is allocated, whatever the file says.
import { CheckpointFormatError } from './errors.js';
import { readExactly } from './positional-read.js';
import type { DatasetManifest } from './manifest.js';
import { type ReadHandle, fileProblem, openRegularFile } from './regular-file.js';
import { type RunLayout, validateRunHeader } from './run-file.js';
import { type SafetensorsHeader, parseHeaderLength, parseSafetensorsHeader } from './safetensors.js';

export const MAX_RUN_HEADER_BYTES = 16 * 1024 * 1024;

/** Reads and parses the safetensors header of an open run file (at most MAX_RUN_HEADER_BYTES). */
export async function readRunHeaderFrom(handle: ReadHandle, file: string): Promise<SafetensorsHeader> {
  let size: number;
  try {
    ({ size } = await handle.stat());
  } catch (error) {
    throw fileProblem(file, 'run file', error);
  }
  if (size < 8) throw new CheckpointFormatError(file, `run file is ${size} bytes, too short for a safetensors header`);
  const prefix = await readExactly(handle, file, 0, 8);
  const length = parseHeaderLength(file, prefix, size);
  if (length > MAX_RUN_HEADER_BYTES) {
    throw new CheckpointFormatError(file, `run file header is ${length} bytes, more than the ${MAX_RUN_HEADER_BYTES}-byte limit for a run file`);
  }
  return parseSafetensorsHeader(file, await readExactly(handle, file, 8, length), size);
}

/** Opens `file` (a regular file only) and validates its header against the manifest. */
export async function readRunLayout(file: string, manifest: DatasetManifest, run: string): Promise<RunLayout> {
  const handle = await openRegularFile(file, 'run file');
  try {
    return validateRunHeader(await readRunHeaderFrom(handle, file), manifest, run);
  } finally {
    await handle.close().catch(() => undefined);
  }
}
