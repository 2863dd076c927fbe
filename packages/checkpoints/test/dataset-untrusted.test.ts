// Checkpoint dataset folders as an adversary would hand them over: every manifest field
// of the wrong type, manifests that are folders, FIFOs, empty, huge or not JSON; run
// entries that are folders, FIFOs, devices, dangling symlinks or loops; run files
// renamed, copied from another task, with extra or missing tensors, iterations beyond
// 2^53 or negative, NaN metrics, huge headers; prototype names as metric names. Each
// must end in a CheckpointFormatError naming the file (validate() lists bad runs), never
// a hang, a raw system error or wrong data, and writers must lose nothing already written.
import { execFileSync } from 'node:child_process';
import { copyFile, cp, mkdir, readFile, readdir, rename, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointFormatError, createManifest, encodeSafetensors, validateManifest } from '../src/index.js';
import { CARTPOLE_TASK } from '../src/official-tasks.js';
import { convertOfficialDataset } from '../src/official/convert.js';
import { parsePythonJson } from '../src/official/runs-json.js';
import {
  CheckpointDataset,
  DatasetWriter,
  RUNS_DIR,
  acquireDatasetLock,
  generateDataset,
  readManifest,
  readSafetensors,
  runFilePath,
  writeSafetensors,
  type GenerateProgressEvent,
} from '../src/node.js';
import { SMALL_MANIFEST, makeRun } from './helpers/runs.js';
import { datasetWithRuns as writtenDataset } from './helpers/dataset-dir.js';
import { useTempDirs } from './helpers/temp-dir.js';

const tempDir = useTempDirs();
const D = SMALL_MANIFEST.parameterCount;
const FIXTURES = new URL('./fixtures/official-lmdb/', import.meta.url).pathname;

const datasetWithRuns = (names: string[], manifest = SMALL_MANIFEST): Promise<string> => writtenDataset(tempDir, names, manifest);

/** A run file's bytes as our writer would make them, with `edit` applied to the tensors/metadata first. */
function runFileBytes(run: string, options: { task?: string; iterations?: bigint[]; extra?: boolean; dropMetric?: boolean; lossNaN?: boolean } = {}): Buffer {
  const n = options.iterations?.length ?? 5;
  const data = makeRun(1, n);
  const loss = Float64Array.from(data.metrics.loss!);
  if (options.lossNaN) loss[2] = NaN;
  const tensors = [
    { name: 'parameters', dtype: 'F32' as const, shape: [n, D], data: data.parameters },
    { name: 'iterations', dtype: 'I64' as const, shape: [n], data: BigInt64Array.from(options.iterations ?? Array.from(data.iterations, (i) => BigInt(i))) },
    { name: 'metrics.loss', dtype: 'F64' as const, shape: [n], data: loss },
    ...(options.dropMetric ? [] : [{ name: 'metrics.err', dtype: 'F64' as const, shape: [n], data: Float64Array.from(data.metrics.err!) }]),
    ...(options.extra ? [{ name: 'metrics.secret', dtype: 'F64' as const, shape: [n], data: new Float64Array(n) }] : []),
  ];
  return Buffer.concat(encodeSafetensors(tensors, { format: 'gpt-checkpoints-run', formatVersion: '1', task: options.task ?? 'toy', run }));
}

/** Opens `dir`, checks that reading `bad` fails naming its file with `pattern`, and that validate lists exactly `bad`. */
async function expectBadRun(dir: string, bad: string, pattern: RegExp, options: { checkFinite?: boolean } = {}): Promise<void> {
  const dataset = await CheckpointDataset.open(dir, options);
  try {
    const error = await dataset.readRun(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointFormatError);
    expect((error as CheckpointFormatError).file).toBe(runFilePath(dir, bad));
    expect((error as Error).message).toMatch(pattern);
    const report = await dataset.validate(options);
    expect(report.bad.map((b) => b.run)).toEqual([bad]);
    expect(report.bad[0]!.error.message).toMatch(pattern);
    expect(report.ok).toEqual(dataset.runs.filter((r) => r !== bad));
    for (const run of report.ok) expect((await dataset.readRun(run)).parameters.length % D).toBe(0);
  } finally {
    await dataset.close();
  }
}

describe('run files that belong elsewhere', () => {
  it('a run file renamed to another run, or copied from another run, is reported; generation remakes it', async () => {
    const dir = await datasetWithRuns(['000000', '000001', '000002']);
    await rename(runFilePath(dir, '000001'), runFilePath(dir, '000009'));
    await expectBadRun(dir, '000009', /run file of run "000001" stored as run "000009" \(renamed or copied from another run\?\)/);
    await copyFile(runFilePath(dir, '000000'), runFilePath(dir, '000001'));
    const dataset = await CheckpointDataset.open(dir);
    expect((await dataset.validate()).bad.map((b) => b.run)).toEqual(['000001', '000009']);
    await dataset.close();
    // A resumed generation does not take the copy for run 000001: it remakes it.
    const events: GenerateProgressEvent[] = [];
    const result = await generateDataset(dir, SMALL_MANIFEST, { runs: ['000000', '000001', '000002'], makeRun: (_, i) => makeRun(i + 1), onProgress: (e) => events.push(e), noSync: true });
    expect(result).toEqual({ written: ['000001'], skipped: ['000000', '000002'] });
    expect(events.find((e) => e.type === 'run-redo')).toMatchObject({ run: '000001', problem: expect.stringMatching(/stored as run "000001"/) });
    const again = await CheckpointDataset.open(dir, { excludeRuns: ['000009'] });
    expect((await again.validate()).ok).toEqual(['000000', '000001', '000002']);
    for (const [i, run] of ['000000', '000001', '000002'].entries()) expect((await again.readRun(run)).parameters).toEqual(makeRun(i + 1).parameters);
    await again.close();
  });

  it("a run file of another task's dataset (same network size) is reported", async () => {
    const dir = await datasetWithRuns(['000000', '000001']);
    await writeFile(runFilePath(dir, '000001'), runFileBytes('000001', { task: 'cifar10' }));
    await expectBadRun(dir, '000001', /run file of task "cifar10" in a "toy" dataset/);
  });

  it('a run file of another network with the same parameter count is reported (the layout is in its metadata)', async () => {
    const dir = await datasetWithRuns(['000000', '000001']);
    const flat = createManifest({ task: 'toy', tensors: [{ name: 'w', shape: [D] }], metrics: ['loss', 'err'], numTestRuns: 1 });
    const other = await datasetWithRuns(['000000', '000001'], flat);
    await copyFile(runFilePath(other, '000001'), runFilePath(dir, '000001'));
    await expectBadRun(dir, '000001', /run file of a network with tensors "w:15", the manifest has "w:3x4,b:3"/);
    // Files from before the layout was recorded (no "tensors" entry) still read.
    const parts = await readSafetensors(runFilePath(dir, '000000'));
    const { tensors: _layout, ...older } = parts.header.metadata;
    await writeSafetensors(runFilePath(dir, '000001'), parts.header.entries.map((e) => ({ name: e.name, dtype: e.dtype, shape: e.shape, data: parts.tensors.get(e.name)!.data })), { ...older, run: '000001' });
    const dataset = await CheckpointDataset.open(dir);
    expect((await dataset.readRun('000001')).parameters).toEqual(makeRun(1).parameters);
    await dataset.close();
  });

  it('extra or missing metric tensors are reported', async () => {
    const dir = await datasetWithRuns(['000000', '000001']);
    await writeFile(runFilePath(dir, '000001'), runFileBytes('000001', { extra: true }));
    await expectBadRun(dir, '000001', /unexpected tensor "metrics\.secret"/);
    await writeFile(runFilePath(dir, '000001'), runFileBytes('000001', { dropMetric: true }));
    await expectBadRun(dir, '000001', /no "metrics\.err" tensor/);
  });
});

describe('iterations and metrics', () => {
  it('iterations above 2^53 and negative iterations are refused, as the writer refuses them', async () => {
    const dir = await datasetWithRuns(['000000', '000001']);
    await writeFile(runFilePath(dir, '000001'), runFileBytes('000001', { iterations: [0n, 1n, 2n ** 53n + 1n] }));
    await expectBadRun(dir, '000001', /iteration 9007199254740993 \(checkpoint 2\) is above 2\^53 - 1/);
    await writeFile(runFilePath(dir, '000001'), runFileBytes('000001', { iterations: [-5n, 1n] }));
    await expectBadRun(dir, '000001', /iteration -5 \(checkpoint 0\) is negative/);
    const writer = await DatasetWriter.open(dir);
    await expect(writer.writeRun('000002', { ...makeRun(1, 2), iterations: [-5, 1] })).rejects.toThrow(/iteration -5 \(checkpoint 0\) is not a non-negative integer/);
    await writer.close();
  });

  it('metric("constructor") and other prototype names are unknown metrics; a manifest may not name a metric so', async () => {
    const dir = await datasetWithRuns(['000000']);
    const dataset = await CheckpointDataset.open(dir);
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      await expect(dataset.metric('000000', name)).rejects.toThrow(`unknown metric "${name}" (the manifest has loss, err)`);
    }
    expect(Array.from(await dataset.metric('000000', 'err'))).toEqual(makeRun(1).metrics.err);
    await dataset.close();
    expect(() => createManifest({ task: 't', tensors: [{ name: 'w', shape: [1] }], metrics: ['constructor'] })).toThrow(/metric name "constructor" is reserved/);
    expect(() => createManifest({ task: 't', tensors: [{ name: 'w', shape: [1] }], metrics: ['__proto__'] })).toThrow(/metric name "__proto__" is reserved/);
  });

  it('NaN metrics are data by default and a named error with checkFinite', async () => {
    const dir = await datasetWithRuns(['000000', '000001']);
    await writeFile(runFilePath(dir, '000001'), runFileBytes('000001', { lossNaN: true }));
    const lenient = await CheckpointDataset.open(dir);
    expect((await lenient.metric('000001', 'loss'))[2]).toBeNaN();
    expect((await lenient.validate()).bad).toEqual([]);
    await lenient.close();
    await expectBadRun(dir, '000001', /metric "loss" of checkpoint 2 is NaN \(non-finite\)/, { checkFinite: true });
  });
});

describe('run entries that are not regular files', () => {
  it('directory, dangling symlink, symlink loop, FIFO and /dev/zero: each listed as a bad run naming it, nothing blocks', async () => {
    const dir = await datasetWithRuns(['000000', '000009']);
    const runs = join(dir, RUNS_DIR);
    await mkdir(join(runs, 'a-dir.safetensors'));
    await symlink(join(runs, 'nowhere'), join(runs, 'dangling.safetensors'));
    await symlink(join(runs, 'loop.safetensors'), join(runs, 'loop.safetensors'));
    execFileSync('mkfifo', [join(runs, 'fifo.safetensors')]);
    await symlink('/dev/zero', join(runs, 'zero.safetensors'));
    await writeFile(join(runs, 'bad name.safetensors'), runFileBytes('bad name'));
    const dataset = await CheckpointDataset.open(dir);
    const report = await dataset.validate();
    expect(report.ok).toEqual(['000000', '000009']);
    const problems = Object.fromEntries(report.bad.map((b) => [b.run, b.error.message]));
    expect(problems).toEqual({
      'a-dir': `${join(runs, 'a-dir.safetensors')}: run file is a directory, not a regular file`,
      'bad name': expect.stringMatching(/bad name\.safetensors: "bad name" is not a valid run name/),
      dangling: expect.stringMatching(/dangling\.safetensors: .*(does not exist|dangling)/),
      fifo: `${join(runs, 'fifo.safetensors')}: run file is a FIFO (named pipe), not a regular file`,
      loop: expect.stringMatching(/loop\.safetensors: .*symlink loop/),
      zero: `${join(runs, 'zero.safetensors')}: run file is a character device, not a regular file`,
    });
    for (const b of report.bad) expect(b.error).toBeInstanceOf(CheckpointFormatError);
    await expect(dataset.readCheckpoint('fifo', 0)).rejects.toThrow(/FIFO/);
    await dataset.close();
  });

  it('a writer refuses to replace a folder in a run\'s place, keeping it and the other runs', async () => {
    const dir = await datasetWithRuns(['000000']);
    await mkdir(runFilePath(dir, '000001'));
    await writeFile(join(runFilePath(dir, '000001'), 'keep-me'), 'user data');
    const made = generateDataset(dir, SMALL_MANIFEST, { runs: ['000000', '000001'], makeRun: (_, i) => makeRun(i + 1), noSync: true });
    await expect(made).rejects.toThrow(/000001\.safetensors: cannot write run "000001": a directory is in its place; move it away/);
    expect(await readFile(join(runFilePath(dir, '000001'), 'keep-me'), 'utf8')).toBe('user data');
    const dataset = await CheckpointDataset.open(dir);
    expect((await dataset.readRun('000000')).parameters).toEqual(makeRun(1).parameters);
    await dataset.close();
  });
});

describe('manifest.json as an adversary writes it', () => {
  const good = JSON.parse(JSON.stringify(SMALL_MANIFEST)) as Record<string, unknown>;
  const cases: [string, unknown, RegExp][] = [
    ['an array', [], /manifest is not a JSON object/],
    ['null', null, /manifest is not a JSON object/],
    ['format a number', { ...good, format: 1 }, /"format" is 1, expected "gpt-checkpoints"/],
    ['formatVersion a string', { ...good, formatVersion: '1' }, /formatVersion "1" is not supported/],
    ['task a list', { ...good, task: ['toy'] }, /"task" must be a non-empty string/],
    ['tensors an object', { ...good, tensors: { w: [3] } }, /"tensors" must be a non-empty list/],
    ['tensors[0] null', { ...good, tensors: [null] }, /tensors\[0\] is not an object/],
    ['tensor name a number', { ...good, tensors: [{ name: 7, shape: [1] }] }, /tensors\[0\] has no name/],
    ['negative dimension', { ...good, tensors: [{ name: 'w', shape: [-3, 5] }], parameterCount: -15 }, /tensor "w" has shape \[-3,5\]/],
    ['fractional dimension', { ...good, tensors: [{ name: 'w', shape: [1.5] }] }, /tensor "w" has shape \[1.5\]/],
    ['shape a string', { ...good, tensors: [{ name: 'w', shape: '3' }] }, /tensor "w" has shape "3"/],
    ['huge shape', { ...good, tensors: [{ name: 'w', shape: [2 ** 20, 2 ** 20, 2 ** 20] }], parameterCount: 2 ** 60 }, /more than the 2147483647 parameters/],
    ['huge total', { ...good, tensors: [{ name: 'w', shape: [2 ** 30] }, { name: 'b', shape: [2 ** 30] }], parameterCount: 2 ** 31 }, /hold 2147483648 parameters in all/],
    ['duplicate tensor names', { ...good, tensors: [{ name: 'w', shape: [1] }, { name: 'w', shape: [1] }], parameterCount: 2 }, /lists tensor "w" twice/],
    ['parameterCount off by one', { ...good, parameterCount: 16 }, /parameterCount 16 does not match the tensors' total 15/],
    ['parameterCount a string', { ...good, parameterCount: '15' }, /parameterCount "15" does not match/],
    ['metrics a string', { ...good, metrics: 'loss' }, /"metrics" must be a list of metric names/],
    ['metric name with a space', { ...good, metrics: ['a b'] }, /"metrics" must be a list of metric names/],
    ['metric named constructor', { ...good, metrics: ['constructor'] }, /metric name "constructor" is reserved/],
    ['split missing', { ...good, split: undefined }, /"split\.numTestRuns" must be a non-negative integer/],
    ['numTestRuns negative', { ...good, split: { numTestRuns: -1 } }, /"split\.numTestRuns" must be a non-negative integer/],
    ['numTestRuns a string', { ...good, split: { numTestRuns: '1' } }, /"split\.numTestRuns" must be a non-negative integer/],
    ['metadata a list', { ...good, metadata: [] }, /"metadata" must be an object/],
  ];
  it.each(cases)('%s: a CheckpointFormatError naming manifest.json and the field', async (_what, value, pattern) => {
    const dir = await tempDir();
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(value));
    const error = await CheckpointDataset.open(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointFormatError);
    expect((error as CheckpointFormatError).file).toBe(join(dir, 'manifest.json'));
    expect((error as Error).message).toMatch(pattern);
  });

  it('inherited fields do not count, "__proto__" keys are plain data, and a tensor named "__proto__" round-trips', async () => {
    const inherited = Object.create({ format: 'gpt-checkpoints', formatVersion: 1 }) as object;
    expect(() => validateManifest(inherited, 'm.json')).toThrow(/"format" is undefined/);
    const text = JSON.stringify({ ...SMALL_MANIFEST, tensors: [{ name: '__proto__', shape: [3, 4] }, { name: 'constructor', shape: [3] }] });
    const parsed = validateManifest(JSON.parse(text.replace('"split":', '"__proto__":{"polluted":1},"split":')), 'm.json');
    expect(parsed.tensors.map((t) => t.name)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const dir = await datasetWithRuns(['000000'], parsed);
    expect((await readManifest(dir)).tensors.map((t) => t.name)).toEqual(['__proto__', 'constructor']);
  });

  it('a manifest that is a folder, a FIFO, missing, empty, huge, not UTF-8 or not JSON: each named, none read whole or blocking', async () => {
    const expectManifestError = async (dir: string, pattern: RegExp): Promise<void> => {
      const error = await CheckpointDataset.open(dir).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointFormatError);
      expect((error as Error).message).toMatch(new RegExp(`^${join(dir, 'manifest.json').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: ${pattern.source}`));
    };
    const dir = await tempDir();
    await expectManifestError(dir, /missing manifest/);
    await mkdir(join(dir, 'manifest.json'));
    await expectManifestError(dir, /manifest is a directory, not a regular file/);
    const fifo = await tempDir();
    execFileSync('mkfifo', [join(fifo, 'manifest.json')]);
    await expectManifestError(fifo, /manifest is a FIFO \(named pipe\), not a regular file/);
    const empty = await tempDir();
    await writeFile(join(empty, 'manifest.json'), '');
    await expectManifestError(empty, /manifest is empty/);
    const huge = await tempDir();
    await writeFile(join(huge, 'manifest.json'), '');
    await truncate(join(huge, 'manifest.json'), 64 * 1024 * 1024); // sparse: 64 MB of nothing
    await expectManifestError(huge, /manifest is 67108864 bytes, more than the 16777216-byte limit/);
    const latin1 = await tempDir();
    await writeFile(join(latin1, 'manifest.json'), Buffer.from([0x7b, 0xff, 0x7d]));
    await expectManifestError(latin1, /manifest is not valid UTF-8/);
    const junk = await tempDir();
    await writeFile(join(junk, 'manifest.json'), '{"format": "gpt-checkpoints",');
    await expectManifestError(junk, /manifest is not valid JSON/);
    // A writer on such a folder refuses naming the manifest and changes nothing.
    await expect(DatasetWriter.create(dir, SMALL_MANIFEST)).rejects.toThrow(/manifest\.json: manifest is a directory/);
    expect((await readdir(dir)).sort()).toEqual(['manifest.json', 'runs']);
  });

  it('more test runs than runs: the dataset opens (it may be under generation), validate() reports it naming the manifest', async () => {
    const manifest = createManifest({ task: 'toy', tensors: SMALL_MANIFEST.tensors, metrics: ['loss', 'err'], numTestRuns: 2 });
    const dir = await datasetWithRuns(['000000', '000001'], manifest);
    const complete = await CheckpointDataset.open(dir);
    expect(complete.split).toEqual({ train: [], test: ['000000', '000001'] });
    expect((await complete.validate()).problems).toEqual([]);
    await complete.close();
    const short = await CheckpointDataset.open(dir, { excludeRuns: ['000001'] });
    expect(short.split).toEqual({ train: [], test: ['000000'] });
    const report = await short.validate();
    expect(report.ok).toEqual(['000000']);
    expect(report.problems.map((p) => p.message)).toEqual([
      `${join(dir, 'manifest.json')}: split.numTestRuns is 2, but the folder holds only 1 runs: all of them are test runs, none is left for training (an incomplete dataset, or a manifest that does not belong to these runs)`,
    ]);
    await short.close();
  });

  it('a runs entry that is a file is named by the reader and the writer', async () => {
    const dir = await datasetWithRuns([]);
    await writeFile(join(dir, 'manifest.json'), JSON.stringify(SMALL_MANIFEST));
    await rm(join(dir, RUNS_DIR), { recursive: true });
    await writeFile(join(dir, RUNS_DIR), 'not a folder');
    await expect(CheckpointDataset.open(dir)).rejects.toThrow(new RegExp(`${RUNS_DIR}: .*runs folder.*(ENOTDIR|not a directory)`));
    await expect(DatasetWriter.create(dir, SMALL_MANIFEST)).rejects.toThrow(/runs: runs folder is a file, not a folder/);
  });
});

describe('bounded reads of huge run files', () => {
  it('a run header claiming 20 MB is refused before it is read; maxRunBytes bounds readRun, validate reads in blocks', async () => {
    const dir = await datasetWithRuns(['000000', '000001']);
    const file = runFilePath(dir, '000001');
    const prefix = Buffer.alloc(8);
    prefix.writeBigUInt64LE(20_000_000n);
    await writeFile(file, prefix);
    await truncate(file, 8 + 20_000_000 + 100); // sparse
    await expectBadRun(dir, '000001', /run file header is 20000000 bytes, more than the 16777216-byte limit/);
    const small = await CheckpointDataset.open(dir, { maxRunBytes: 100, excludeRuns: ['000001'] });
    await expect(small.readRun('000000')).rejects.toThrow(/000000\.safetensors: run holds 300 bytes of parameters, more than maxRunBytes \(100\)/);
    expect(await small.readCheckpoint('000000', 4)).toEqual(makeRun(1).parameters.subarray(4 * D, 5 * D));
    expect((await small.validate({ checkFinite: true })).ok).toEqual(['000000']);
    await small.close();
    await expect(CheckpointDataset.open(dir, { maxRunBytes: 59 })).rejects.toThrow(/manifest\.json: one checkpoint of 15 parameters is 60 bytes, more than maxRunBytes \(59\)/);
  });
});

describe('official runs.json', () => {
  it('a string in the file never reads as a NaN/Infinity literal', () => {
    const parsed = parsePythonJson('{"a": NaN, "b": "\\u0000py:NaN", "c": "NaN", "d": [Infinity, -Infinity]}') as Record<string, unknown>;
    expect(parsed).toEqual({ a: NaN, b: '\u0000py:NaN', c: 'NaN', d: [Infinity, -Infinity] });
  });
});

describe('convertOfficialDataset with onInvalidRun: skip', () => {
  it('skips and reports a ".hidden" folder and other invalid names instead of aborting; "throw" stops at the first', async () => {
    const source = join(await tempDir(), 'cartpole');
    await cp(join(FIXTURES, 'cartpole'), source, { recursive: true });
    await cp(join(source, '000000'), join(source, '.hidden'), { recursive: true });
    await mkdir(join(source, 'bad name'));
    await cp(join(source, '000002'), join(source, '000002_000009'), { recursive: true }); // repeats run 000002
    const dest = join(await tempDir(), 'ours');
    await expect(convertOfficialDataset(source, dest, { task: CARTPOLE_TASK, numTestRuns: 1 })).rejects.toThrow(/\.hidden: folder name "\.hidden" is not a run name/);
    const events: string[] = [];
    const summary = await convertOfficialDataset(source, dest, { task: CARTPOLE_TASK, numTestRuns: 1, onInvalidRun: 'skip', onProgress: (e) => events.push(`${e.type} ${e.run}`) });
    expect(summary.converted).toEqual(['000000', '000001', '000002', '000003', '000004']);
    expect(summary.invalid.map((i) => [i.run, i.error.message.replace(source, '<src>')])).toEqual([
      ['.hidden', expect.stringMatching(/^<src>\/\.hidden: folder name "\.hidden" is not a run name/)],
      ['000002_000009', expect.stringMatching(/^<src>\/000002_000009: run "000002" is also in .*000002$/)],
      ['bad name', expect.stringMatching(/^<src>\/bad name: folder name "bad name" is not a run name/)],
    ]);
    expect(events.slice(0, 3)).toEqual(['run-invalid .hidden', 'run-invalid 000002_000009', 'run-invalid bad name']);
    const dataset = await CheckpointDataset.open(dest);
    expect((await dataset.validate()).ok).toHaveLength(5);
    await dataset.close();
    // Converting into a folder another writer holds is refused, naming the holder.
    const lock = await acquireDatasetLock(dest, { command: 'another converter' });
    await expect(convertOfficialDataset(source, dest, { task: CARTPOLE_TASK, numTestRuns: 1, onInvalidRun: 'skip' })).rejects.toThrow(/locked by another writer in this process .*\(another converter\)/);
    await lock.release();
  });
});
