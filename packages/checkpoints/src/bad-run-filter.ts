// The official cleaning rule (G.pt's prepare_checkpoints.py): a whole run is dropped if
// any of its checkpoints cannot be read, holds a non-finite value, or has a parameter
// with |value| > 10. Diverged runs would otherwise dominate the normalization constant
// and teach G.pt to produce exploding weights.
import type { CheckpointSource } from './checkpoint-source.js';
import { CheckpointFormatError } from './errors.js';

export const OFFICIAL_MAX_ABS_PARAMETER = 10;

/** Why a checkpoint fails the filter, or null when it passes. */
export function badCheckpointReason(parameters: ArrayLike<number>, maxAbs = OFFICIAL_MAX_ABS_PARAMETER): string | null {
  for (let i = 0; i < parameters.length; i++) {
    const v = parameters[i]!;
    if (v - v !== 0) return `parameter ${i} is ${v}`;
    if (Math.abs(v) > maxAbs) return `|parameter ${i}| = ${Math.abs(v)} > ${maxAbs}`;
  }
  return null;
}

/** Why a run's [n, D] parameter matrix fails the filter, or null when it passes. */
export function badRunReason(parameters: Float32Array, parameterCount: number, maxAbs = OFFICIAL_MAX_ABS_PARAMETER): string | null {
  for (let k = 0; k * parameterCount < parameters.length; k++) {
    const reason = badCheckpointReason(parameters.subarray(k * parameterCount, (k + 1) * parameterCount), maxAbs);
    if (reason) return `checkpoint ${k}: ${reason}`;
  }
  return null;
}

export type BadRunProgressEvent = { type: 'run-scanned'; run: string; index: number; total: number; bad: boolean };

export interface FindBadRunsOptions {
  maxAbs?: number;
  runs?: readonly string[];
  signal?: AbortSignal;
  onProgress?: (event: BadRunProgressEvent) => void;
}

/** Scans runs and returns those the official filter removes, each with the reason. */
export async function findBadRuns(source: CheckpointSource, options: FindBadRunsOptions = {}): Promise<{ run: string; reason: string }[]> {
  const runs = options.runs ?? source.runs;
  const bad: { run: string; reason: string }[] = [];
  const scratch = new Float32Array(source.parameterCount);
  for (const [index, run] of runs.entries()) {
    options.signal?.throwIfAborted();
    const reason = await runReason(source, run, scratch, options);
    if (reason) bad.push({ run, reason });
    options.onProgress?.({ type: 'run-scanned', run, index, total: runs.length, bad: reason !== null });
  }
  return bad;
}

async function runReason(source: CheckpointSource, run: string, scratch: Float32Array, options: FindBadRunsOptions): Promise<string | null> {
  try {
    const n = await source.numCheckpoints(run);
    for (let k = 0; k < n; k++) {
      options.signal?.throwIfAborted();
      const reason = badCheckpointReason(await source.readCheckpoint(run, k, scratch), options.maxAbs);
      if (reason) return `checkpoint ${k}: ${reason}`;
    }
    return null;
  } catch (error) {
    if (error instanceof CheckpointFormatError) return `unreadable: ${error.message}`; // official rule: unreadable runs go too
    throw error;
  }
}
