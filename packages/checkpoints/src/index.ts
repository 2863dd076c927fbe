// @gpt/checkpoints: the checkpoint-dataset format (safetensors codec, manifest and run
// validation), the PyTorch .pt reader over bytes, normalization, permutation augmentation
// and pair sampling over any CheckpointSource. No Node built-in is imported from here, so
// this entry bundles for browsers (test/browser-bundle.test.ts at the repository root
// checks it). Files on disk — datasets, safetensors files, atomic writes, .pt files by
// path — are the Node entry `@gpt/checkpoints/node`; the official LMDB datasets are
// `@gpt/checkpoints/lmdb`, so that neither entry loads the native `lmdb` package.

export { CheckpointFormatError, DatasetLockedError, type LockOwner, UnsafePickleError } from './errors.js';
export {
  DTYPE_BYTES,
  type AnyTypedArray,
  type Dtype,
  bfloat16BitsToNumber,
  float16BitsToNumber,
  toFloat32,
} from './dtype.js';
export {
  DEFAULT_MAX_SAFETENSORS_BYTES,
  MAX_HEADER_BYTES,
  type SafetensorsEntry,
  type SafetensorsHeader,
  type SafetensorsInput,
  type SafetensorsReadOptions,
  type SafetensorsTensor,
  decodeSafetensors,
  encodeSafetensors,
} from './safetensors.js';
export {
  FORMAT_NAME,
  FORMAT_VERSION,
  MANIFEST_FILE,
  MAX_PARAMETER_COUNT,
  MAX_TENSOR_RANK,
  type DatasetManifest,
  type ManifestInput,
  type TensorSpec,
  createManifest,
  parameterCountOf,
  validateManifest,
} from './manifest.js';
export { type RunData, type RunLayout, checkIterations, firstNonFinite, isValidRunName, runNameOf } from './run-file.js';
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
export { type PairBatch, PairSampler, type PairSamplerOptions, type PairSamplerState } from './pair-sampler.js';
export { type ByteSource, bytesSource } from './byte-source.js';
export {
  DEFAULT_MAX_TENSOR_BYTES,
  DEFAULT_MAX_TOTAL_TENSOR_BYTES,
  MAX_PICKLE_BYTES,
  MAX_TORCH_RANK,
  TorchFile,
  type TorchFileOptions,
  TorchTensor,
  type TensorData,
  type TorchStorage,
} from './pytorch/torch-file.js';
export { MAX_INT_DIGITS, MAX_LONG_BYTES, PyCallable, PyDict, PyTuple, type PyKey, type PyValue, type UnpickleOptions, unpickle } from './pytorch/pickle.js';
export { DEFAULT_MAX_RECORD_BYTES, type InflateRaw, ZipReader, type ZipEntry, type ZipReaderOptions, inflateRawWithStreams } from './pytorch/zip-reader.js';
