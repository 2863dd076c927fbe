// PyTorch .pt files and zips on disk (Node only): the byte readers of torch-file.ts and
// zip-reader.ts over a file source, inflating with zlib (present in every Node 20, where
// DecompressionStream's 'deflate-raw' only arrived in 20.12).
import { inflateRawSync } from 'node:zlib';
import { openFileSource } from '../file-source.js';
import { TorchFile, type TensorData } from './torch-file.js';
import { ZipReader, type InflateRaw } from './zip-reader.js';

/** zlib's raw inflate, capped at the stated size (a zip bomb fails instead of filling memory). */
export const inflateRawZlib: InflateRaw = (data, expectedSize) => inflateRawSync(data, { maxOutputLength: Math.max(expectedSize, 1) });

/** Opens a zip file and reads its central directory; errors name the file. */
export async function openZipFile(file: string): Promise<ZipReader> {
  return ZipReader.open(await openFileSource(file), { inflateRaw: inflateRawZlib });
}

/** Opens a .pt file and decodes its pickle (no tensor data is read yet); close() it when done. */
export async function openTorchFile(file: string): Promise<TorchFile> {
  return TorchFile.open(await openFileSource(file), { inflateRaw: inflateRawZlib });
}

/** Reads every tensor of the state dict at `path` of a .pt file (e.g. ["G_ema"] of a G.pt checkpoint). */
export async function readTorchStateDict(file: string, path: readonly (string | number)[] = []): Promise<Map<string, TensorData>> {
  const torchFile = await openTorchFile(file);
  try {
    return await torchFile.readStateDict(path);
  } finally {
    await torchFile.close();
  }
}
