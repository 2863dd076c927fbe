// Test helper: a dataset folder holding runs written by DatasetWriter (run i is makeRun(i + 1)).
import type { DatasetManifest } from '../../src/index.js';
import { DatasetWriter } from '../../src/node.js';
import { SMALL_MANIFEST, makeRun } from './runs.js';

/** Writes `names` into a fresh folder from `tempDir` (writer closed, lock released) and returns it. */
export async function datasetWithRuns(tempDir: () => Promise<string>, names: readonly string[], manifest: DatasetManifest = SMALL_MANIFEST): Promise<string> {
  const dir = await tempDir();
  const writer = await DatasetWriter.create(dir, manifest, { noSync: true });
  for (const [i, name] of names.entries()) await writer.writeRun(name, makeRun(i + 1));
  await writer.close();
  return dir;
}
