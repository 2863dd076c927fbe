// PyTorch .pt files and zips on disk (Node only): the byte readers of torch-file.ts and
// zip-reader.ts over a file source, inflating with zlib (present in every Node 20, where
// DecompressionStream's 'deflate-raw' only arrived in 20.12).
import { inflateRawSync } from 'node:zlib';
import { openFileSource } from '../file-source.js';
import { TorchFile, type TensorData, type TorchFileOptions } from './torch-file.js';
import { ZipReader, type InflateRaw, type ZipReaderOptions } from './zip-reader.js';

/** zlib's raw inflate, capped at the stated size (a zip bomb fails instead of filling memory). */
export const inflateRawZlib: InflateRaw = (data, expectedSize) => inflateRawSync(data, { maxOutputLength: Math.max(expectedSize, 1) });

/** Opens a zip file (a regular file only) and reads its central directory; errors name the file. */
export async function openZipFile(file: string, options: ZipReaderOptions = {}): Promise<ZipReader> {
  return ZipReader.open(await openFileSource(file), { inflateRaw: inflateRawZlib, ...options });
}

/**
 * Opens a .pt file (a regular file only: a FIFO or device is refused before any read) and
 * decodes its pickle (no tensor data is read yet); close() it when done. `maxBytes` and
 * `maxTotalBytes` bound what its tensors may make us allocate (see TorchFileOptions).
 */
export async function openTorchFile(file: string, options: TorchFileOptions = {}): Promise<TorchFile> {
  return TorchFile.open(await openFileSource(file), { inflateRaw: inflateRawZlib, ...options });
}

/** Reads every tensor of the state dict at `path` of a .pt file (e.g. ["G_ema"] of a G.pt checkpoint). */
export async function readTorchStateDict(file: string, path: readonly (string | number)[] = [], options: TorchFileOptions = {}): Promise<Map<string, TensorData>> {
  const torchFile = await openTorchFile(file, options);
  try {
    return await torchFile.readStateDict(path);
  } finally {
    await torchFile.close();
  }
}
