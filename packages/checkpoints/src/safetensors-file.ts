// Safetensors files on disk (Node only): header-first positional reads, so a run file's
// header is validated without reading its data, and atomic writes. The format itself
// (parsing, validation, encoding) is safetensors.ts.
import type { open } from 'node:fs/promises';
import { CheckpointFormatError } from './errors.js';
import { typedArrayFromBytes } from './dtype.js';
import { writeFileAtomic, type AtomicWriteOptions } from './atomic-write.js';
import { readExactly } from './positional-read.js';
import { openRegularFile } from './regular-file.js';
import {
  DEFAULT_MAX_SAFETENSORS_BYTES,
  type SafetensorsHeader,
  type SafetensorsInput,
  type SafetensorsReadOptions,
  type SafetensorsTensor,
  encodeSafetensors,
  parseHeaderLength,
  parseSafetensorsHeader,
} from './safetensors.js';

type ReadHandle = Awaited<ReturnType<typeof open>>;

/** Reads and validates the header of an open safetensors file. */
export async function readSafetensorsHeaderFrom(handle: ReadHandle, file: string, options: SafetensorsReadOptions = {}): Promise<SafetensorsHeader> {
  const { size } = await handle.stat();
  const prefix = size >= 8 ? await readExactly(handle, file, 0, 8) : new Uint8Array(0);
  const length = parseHeaderLength(file, prefix, size);
  const headerBytes = await readExactly(handle, file, 8, length);
  return parseSafetensorsHeader(file, headerBytes, size, options);
}

/**
 * Reads and validates the header of a safetensors file without reading its data. Only a
 * regular file is read (a FIFO or a device is refused before any read).
 */
export async function readSafetensorsHeader(file: string, options: SafetensorsReadOptions = {}): Promise<SafetensorsHeader> {
  const handle = await openRegularFile(file, 'safetensors file');
  try {
    return await readSafetensorsHeaderFrom(handle, file, options);
  } finally {
    await handle.close();
  }
}

/** Reads one tensor (whole) of an open file whose header was read already. */
export async function readSafetensorsTensorFrom(handle: ReadHandle, header: SafetensorsHeader, name: string): Promise<SafetensorsTensor> {
  const entry = header.byName.get(name);
  if (!entry) {
    const names = [...header.byName.keys()];
    const listed = names.length > 20 ? `${names.slice(0, 20).join(', ')}, ... (${names.length} in all)` : names.join(', ') || 'none';
    throw new CheckpointFormatError(header.file, `no tensor named ${JSON.stringify(name)} (has ${listed})`);
  }
  const bytes = await readExactly(handle, header.file, header.dataStart + entry.begin, entry.end - entry.begin);
  return { dtype: entry.dtype, shape: entry.shape, data: typedArrayFromBytes(entry.dtype, bytes) };
}

/** A whole safetensors file: its header (entries, metadata) and every tensor by name. */
export interface SafetensorsFile {
  readonly header: SafetensorsHeader;
  readonly tensors: Map<string, SafetensorsTensor>;
}

/**
 * Reads a whole safetensors file: every tensor and the metadata. Only a regular file is
 * read; its tensors may hold at most `maxBytes` together (default 4 GiB), checked on the
 * header before any tensor is read.
 */
export async function readSafetensors(file: string, options: SafetensorsReadOptions = {}): Promise<SafetensorsFile> {
  const handle = await openRegularFile(file, 'safetensors file');
  try {
    const header = await readSafetensorsHeaderFrom(handle, file, { maxBytes: options.maxBytes ?? DEFAULT_MAX_SAFETENSORS_BYTES });
    const tensors = new Map<string, SafetensorsTensor>();
    for (const entry of header.entries) tensors.set(entry.name, await readSafetensorsTensorFrom(handle, header, entry.name));
    return { header, tensors };
  } finally {
    await handle.close();
  }
}

/** Writes a safetensors file atomically (temporary file, fsync, rename). */
export async function writeSafetensors(
  file: string,
  tensors: readonly SafetensorsInput[],
  metadata: Readonly<Record<string, string>> = {},
  options: AtomicWriteOptions = {},
): Promise<void> {
  await writeFileAtomic(file, encodeSafetensors(tensors, metadata), options);
}
