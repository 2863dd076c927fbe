// The manifest of a generated dataset, and the check that a folder may receive this
// generation's runs: it is new (or empty), or it holds runs of the same task, network,
// recipe and checkpoint count, so that resuming never mixes runs of two recipes.
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { type DatasetManifest, MANIFEST_FILE, createManifest } from '@gpt/checkpoints';
import { RUNS_DIR, readManifest } from '@gpt/checkpoints/node';
import type { Task } from '../tasks/task.js';
import { LOCK_FILE } from './dataset-lock.js';

/** Names the generator writes into manifest.metadata. */
export const GENERATOR_NAME = '@gpt/g-pt generateDataset';

export interface GeneratedManifestOptions {
  readonly checkpointsPerRun: number;
  readonly numTestRuns: number;
  readonly runsPerBatch: number;
}

export function generatedManifest(task: Task, options: GeneratedManifestOptions): DatasetManifest {
  return createManifest({
    task: task.dataset,
    tensors: task.tensors,
    metrics: task.datasetMetrics,
    numTestRuns: options.numTestRuns,
    metadata: {
      generator: GENERATOR_NAME,
      taskName: task.name,
      recipe: task.recipe,
      checkpointsPerRun: options.checkpointsPerRun,
      // Batched training equals one-by-one training within float tolerance, not bit for bit:
      // recorded so that a bit-exact regeneration knows how the runs were grouped.
      runsPerBatch: options.runsPerBatch,
      createdAt: new Date().toISOString(),
    },
  });
}

/** A folder that holds something this generation must not write into; nothing was changed. */
export class DatasetConflictError extends Error {
  override readonly name = 'DatasetConflictError';
}

/** JSON with sorted keys, so that two recipes compare by content. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1))) : v,
  );
}

/** "epochs 25 on disk, 5 asked; lr ..." for the top-level keys that differ. */
function recipeDifferences(onDisk: Record<string, unknown>, asked: Record<string, unknown>): string {
  const keys = [...new Set([...Object.keys(onDisk), ...Object.keys(asked)])].sort();
  return keys
    .filter((k) => canonical(onDisk[k]) !== canonical(asked[k]))
    .map((k) => `${k} ${canonical(onDisk[k]) ?? '(absent)'} on disk, ${canonical(asked[k]) ?? '(absent)'} asked`)
    .join('; ');
}

/**
 * The manifest already in `dir`, checked against the one this generation would write,
 * or null when the folder holds no dataset yet (then it must hold nothing but leftovers
 * of an interrupted start). `numTestRunsGiven` is false when the caller left the split
 * to the default, which then follows the folder's.
 */
export async function checkExistingDataset(dir: string, wanted: DatasetManifest, numTestRunsGiven: boolean): Promise<DatasetManifest | null> {
  const entries = await readdir(dir);
  const where = `${dir}`;
  if (!entries.includes(MANIFEST_FILE)) {
    const foreign = entries.filter((e) => e !== RUNS_DIR && e !== LOCK_FILE && !e.startsWith(`.${MANIFEST_FILE}.tmp-`));
    const runs = entries.includes(RUNS_DIR) ? (await readdir(join(dir, RUNS_DIR))).filter((e) => !e.startsWith('.')) : [];
    if (foreign.length > 0 || runs.length > 0) {
      const shown = [...foreign, ...runs.map((r) => `${RUNS_DIR}/${r}`)].slice(0, 5).join(', ');
      throw new DatasetConflictError(`${where} is not empty (${shown}${foreign.length + runs.length > 5 ? ', ...' : ''}) and holds no checkpoint dataset (no ${MANIFEST_FILE}); choose a new or empty folder. Nothing was changed.`);
    }
    return null;
  }
  const current = await readManifest(dir);
  const runFiles = (await readdir(join(dir, RUNS_DIR)).catch(() => [] as string[])).filter((e) => e.endsWith('.safetensors') && !e.startsWith('.'));
  if (runFiles.length === 0 && (current.metadata as { generator?: unknown } | undefined)?.generator === GENERATOR_NAME) {
    // An earlier generation stopped before its first run (e.g. a bad option its task
    // rejected): no run to keep consistent with, so the new settings replace its manifest.
    await unlink(join(dir, MANIFEST_FILE));
    return null;
  }
  const asked = wanted.metadata as { taskName: string; recipe: Record<string, unknown>; checkpointsPerRun: number };
  const refuse = (problem: string): never => {
    throw new DatasetConflictError(`${where} holds ${problem}; choose another folder to generate this dataset. Nothing was changed.`);
  };
  if (current.task !== wanted.task) refuse(`a "${current.task}" dataset (${MANIFEST_FILE}), and task "${asked.taskName}" generates "${wanted.task}" runs`);
  if (canonical(current.tensors) !== canonical(wanted.tensors)) refuse(`runs of a different "${current.task}" network (its tensors differ from task "${asked.taskName}"'s)`);
  if (canonical(current.metrics) !== canonical(wanted.metrics)) refuse(`runs with metrics ${canonical(current.metrics)}, and task "${asked.taskName}" records ${canonical(wanted.metrics)}`);
  const meta = (current.metadata ?? {}) as { generator?: unknown; recipe?: unknown; checkpointsPerRun?: unknown };
  if (meta.generator !== GENERATOR_NAME || meta.recipe === undefined) {
    refuse(`a "${current.task}" dataset that generateDataset did not write (no recipe in its ${MANIFEST_FILE}), so new runs could not be told to match its runs`);
  }
  if (meta.checkpointsPerRun !== asked.checkpointsPerRun) refuse(`runs of ${String(meta.checkpointsPerRun)} checkpoints each, and ${asked.checkpointsPerRun} per run were asked`);
  if (canonical(meta.recipe) !== canonical(asked.recipe)) {
    refuse(`runs of another recipe (${recipeDifferences(meta.recipe as Record<string, unknown>, asked.recipe)})`);
  }
  if (numTestRunsGiven && current.split.numTestRuns !== wanted.split.numTestRuns) {
    refuse(`a dataset whose last ${current.split.numTestRuns} runs are the test split, and ${wanted.split.numTestRuns} test runs were asked (leave the option out to keep the folder's)`);
  }
  return current;
}
