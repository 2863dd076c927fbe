// @gpt/checkpoints/lmdb: the official G.pt checkpoint datasets (one LMDB environment per
// run plus runs.json) and their conversion to our format. Kept out of the main entry
// because files written by the `lmdb` npm package need that optional native package;
// the official (py-lmdb, format version 1) files are read without it.

export { OfficialDataset, type OfficialDatasetOptions, type OfficialRun } from './official/official-dataset.js';
export { convertOfficialDataset, type ConvertOptions, type ConvertProgressEvent, type ConvertSummary } from './official/convert.js';
export { parseOfficialKey, type OfficialKey } from './official/checkpoint-key.js';
export { parsePythonJson, parseRunsJson, type OfficialRunJson } from './official/runs-json.js';
export { LMDB_DATA_FILE, type LmdbStore, lmdbDataVersion, openLmdbStore } from './official/lmdb-store.js';
