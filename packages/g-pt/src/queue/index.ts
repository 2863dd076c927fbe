// Dataset generation over many machines on a BullMQ queue in Redis (`gpt data --queue`,
// `gpt worker`). Nothing here loads bullmq or ioredis until a function is called.
export { DEFAULT_QUEUE_NAME, RedisUnreachableError, checkQueueUrl, redactQueueUrl } from './redis.js';
export { type DatasetJobData, type DatasetJobResult, type DatasetQueueSpec, QueueConflictError } from './spec.js';
export { DEFAULT_ATTEMPTS, DEFAULT_RETRY_DELAY_MS, type EnqueueDatasetOptions, type EnqueueDatasetResult, enqueueDataset } from './enqueue.js';
export { type QueueFailure, type QueueSnapshot, type QueueStatusOptions, datasetQueueStatus } from './status.js';
export { type QueueGenerationEvent, type QueueGenerationOptions, type QueueGenerationResult, generateDatasetOnQueue } from './coordinator.js';
export { DEFAULT_LOCK_DURATION_MS, type DatasetWorker, type DatasetWorkerEvent, type DatasetWorkerOptions, type DatasetWorkerResult, startDatasetWorker } from './worker.js';
