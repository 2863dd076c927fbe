// Fuzz target: a checkpoint dataset's manifest.json, mutated (bytes and JSON structure:
// wrong types, huge or negative shapes, duplicate tensors, prototype keys, deep nesting)
// in a folder whose run files are valid. The whole dataset is then read as a user would.
import type { FuzzTarget } from '../harness.js';
import { manifestJson, readDatasetCompletely, writeSeedDataset } from '../dataset-fixture.js';

export const target: FuzzTarget = {
  name: 'manifest',
  async seeds(dir) {
    const dataset = await writeSeedDataset(dir, 'dataset');
    return [{ path: dataset, mutate: `${dataset}/manifest.json` }];
  },
  read: readDatasetCompletely,
  mutators: { manifestJson },
};
