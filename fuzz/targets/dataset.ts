// Fuzz target: a run file of a checkpoint dataset, mutated (bytes, header structure,
// iterations beyond 2^53 or negative, NaN metrics, another run's or task's identity) in a
// folder whose manifest and other runs are valid. The whole dataset is then read as a user
// would: validate() must list the bad run, reading it must fail naming it, the rest must read.
import type { FuzzTarget } from '../harness.js';
import { readDatasetCompletely, runHeaderJson, runIdentity, tensorValue, writeSeedDataset } from '../dataset-fixture.js';

export const target: FuzzTarget = {
  name: 'dataset',
  async seeds(dir) {
    const first = await writeSeedDataset(dir, 'first-run');
    const last = await writeSeedDataset(dir, 'last-run');
    return [
      { path: first, mutate: `${first}/runs/000000.safetensors` },
      { path: last, mutate: `${last}/runs/000002.safetensors` },
    ];
  },
  read: readDatasetCompletely,
  mutators: { runHeaderJson, runIdentity, tensorValue },
};
