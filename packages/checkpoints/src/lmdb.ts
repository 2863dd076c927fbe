// @gpt/checkpoints/lmdb: the official G.pt checkpoint datasets (one LMDB environment per
// run plus runs.json) and their conversion to our format. Both LMDB data formats (py-lmdb's
// version 1 and the `lmdb` npm package's version 2) are read by our own bounds-checked
// reader: the native package is not needed, and never handed a file from elsewhere.

export { OfficialDataset, type OfficialDatasetOptions, type OfficialRun } from './official/official-dataset.js';
export { convertOfficialDataset, type ConvertOptions, type ConvertProgressEvent, type ConvertSummary } from './official/convert.js';
export { parseOfficialKey, type OfficialKey } from './official/checkpoint-key.js';
export { parsePythonJson, parseRunsJson, type OfficialRunJson } from './official/runs-json.js';
export { DEFAULT_MAX_LMDB_VALUE_BYTES, LMDB_DATA_FILE, type LmdbReadOptions, type LmdbStore, lmdbDataVersion, openLmdbStore } from './official/lmdb-store.js';
