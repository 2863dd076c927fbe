// The dataset folder lock lives in @gpt/checkpoints (one lock for every writer of a
// checkpoint dataset: DatasetWriter, both generateDataset functions and the official
// converter). g-pt's generator takes it before it inspects the folder and hands it to
// DatasetWriter.create; this module re-exports it under the names g-pt always had.
export { type DatasetLock, LOCK_FILE, acquireDatasetLock, processAlive } from '@gpt/checkpoints/node';
export { DatasetLockedError, type LockOwner } from '@gpt/checkpoints';
