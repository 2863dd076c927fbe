// @gpt/checkpoints/node: checkpoint datasets and checkpoint files on disk (Node only: these
// use node:fs, node:path, node:crypto and node:zlib). The formats they read and write —
// safetensors encoding, manifest validation, run layout, the .pt pickle and zip readers —
// are in the main entry `@gpt/checkpoints`, which also runs in browsers.

export {
  type SafetensorsFile,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
} from './safetensors-file.js';
export { writeFileAtomic, type AtomicWriteOptions } from './atomic-write.js';
export { MAX_MANIFEST_BYTES, readManifest } from './manifest-file.js';
export { type AcquireLockOptions, type DatasetLock, LOCK_FILE, acquireDatasetLock, processAlive } from './dataset-lock.js';
export { MAX_RUN_HEADER_BYTES } from './run-file-io.js';
export {
  DatasetWriter,
  RUNS_DIR,
  type DatasetWriterOptions,
  type GenerateDatasetOptions,
  type GenerateProgressEvent,
  type WriteRunOptions,
  generateDataset,
  runFilePath,
} from './dataset-writer.js';
export {
  DEFAULT_MAX_RUN_BYTES,
  CheckpointDataset,
  type CheckpointRecord,
  type IterateOptions,
  type OpenDatasetOptions,
  type RunInfo,
  type ValidationProgressEvent,
  type ValidationReport,
} from './dataset-reader.js';
export { openFileSource } from './file-source.js';
export { inflateRawZlib, openTorchFile, openZipFile, readTorchStateDict } from './pytorch/open-torch-file.js';
