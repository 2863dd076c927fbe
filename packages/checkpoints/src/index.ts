// @gpt/checkpoints: checkpoint datasets on disk (safetensors, one file per run), the
// PyTorch .pt reader, normalization, permutation augmentation and pair sampling.
// The official LMDB datasets are read through the separate `@gpt/checkpoints/lmdb`
// entry, so that this one never loads the native `lmdb` package.

export { CheckpointFormatError, UnsafePickleError } from './errors.js';
export {
  DTYPE_BYTES,
  type AnyTypedArray,
  type Dtype,
  bfloat16BitsToNumber,
  float16BitsToNumber,
  toFloat32,
} from './dtype.js';
export {
  MAX_HEADER_BYTES,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type SafetensorsInput,
  type SafetensorsTensor,
  decodeSafetensors,
  encodeSafetensors,
  readSafetensors,
  readSafetensorsHeader,
  writeSafetensors,
} from './safetensors.js';
export { writeFileAtomic, type AtomicWriteOptions } from './atomic-write.js';
export {
  FORMAT_NAME,
  FORMAT_VERSION,
  MANIFEST_FILE,
  type DatasetManifest,
  type ManifestInput,
  type TensorSpec,
  createManifest,
  parameterCountOf,
  readManifest,
  validateManifest,
} from './manifest.js';
export { type RunData, type RunLayout, runNameOf } from './run-file.js';
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
  CheckpointDataset,
  type CheckpointRecord,
  type IterateOptions,
  type OpenDatasetOptions,
  type RunInfo,
  type ValidationProgressEvent,
  type ValidationReport,
} from './dataset-reader.js';
export { type CheckpointSource, type RunSplit, splitRuns } from './checkpoint-source.js';
export {
  OFFICIAL_MAX_ABS_PARAMETER,
  type BadRunProgressEvent,
  type FindBadRunsOptions,
  badCheckpointReason,
  badRunReason,
  findBadRuns,
} from './bad-run-filter.js';
export {
  OPENAI_TARGET_STD,
  type CoefficientProgressEvent,
  type Normalizer,
  type OpenaiCoefficient,
  type OpenaiCoefficientOptions,
  computeOpenaiCoefficient,
  identityNormalizer,
  openaiNormalizer,
} from './normalization.js';
export {
  ParameterPermuter,
  type PermutationGroup,
  type PermutationMember,
  type PermutationSpec,
  applyGather,
} from './permutation.js';
export {
  CARTPOLE_TASK,
  CIFAR10_TASK,
  MNIST_TASK,
  OFFICIAL_TASKS,
  type OfficialTask,
  taskParameterCount,
} from './official-tasks.js';
export { type PairBatch, PairSampler, type PairSamplerOptions } from './pair-sampler.js';
export { TorchFile, TorchTensor, type TensorData, type TorchStorage, readTorchStateDict } from './pytorch/torch-file.js';
export { PyCallable, PyDict, PyTuple, type PyKey, type PyValue, type UnpickleOptions, unpickle } from './pytorch/pickle.js';
export { ZipReader, type ZipEntry } from './pytorch/zip-reader.js';
