import { mkdir, readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointFormatError, createManifest, encodeSafetensors } from '../src/index.js';
import {
  CheckpointDataset,
  DatasetWriter,
  RUNS_DIR,
  generateDataset,
  processAlive,
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

const datasetWithRuns = (names: string[], manifest = SMALL_MANIFEST): Promise<string> => writtenDataset(tempDir, names, manifest);

/** Asserts that `run` of the dataset at `dir` reads back exactly as written by `datasetWithRuns`. */
async function expectRunIntact(dir: string, run: string, seed: number): Promise<void> {
  const dataset = await CheckpointDataset.open(dir);
  try {
    expect((await dataset.readRun(run)).parameters).toEqual(makeRun(seed).parameters);
  } finally {
    await dataset.close();
  }
}

describe('manifest', () => {
  it('computes D and stores the layout; rejects bad manifests with the problem named', async () => {
    expect(SMALL_MANIFEST.parameterCount).toBe(15);
    expect(() => createManifest({ task: 't', tensors: [{ name: 'w', shape: [0] }], metrics: [] })).toThrow(/tensor "w" has shape \[0\]/);
    expect(() => createManifest({ task: 't', tensors: [{ name: 'w', shape: [2] }], metrics: ['a', 'a'] })).toThrow(/lists a name twice/);
    const dir = await tempDir();
    await writeFile(join(dir, 'manifest.json'), JSON.stringify({ ...SMALL_MANIFEST, parameterCount: 16 }));
    await expect(readManifest(dir)).rejects.toThrow(/manifest\.json: manifest parameterCount 16 does not match the tensors' total 15/);
  });

  it('a missing manifest is a clear error naming the file', async () => {
    const dir = await tempDir();
    const error = await CheckpointDataset.open(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointFormatError);
    expect((error as CheckpointFormatError).file).toBe(join(dir, 'manifest.json'));
    expect((error as Error).message).toMatch(/missing manifest/);
  });
});

describe('writing and reading a dataset', () => {
  it('reads back runs, checkpoints, iterations and metrics exactly, and splits by the last runs', async () => {
    const dir = await datasetWithRuns(['000002', '000000', '000001']);
    const dataset = await CheckpointDataset.open(dir);
    try {
      expect(dataset.runs).toEqual(['000000', '000001', '000002']);
      expect(dataset.split).toEqual({ train: ['000000', '000001'], test: ['000002'] });
      const original = makeRun(1); // written as run 000002
      const run = await dataset.readRun('000002');
      expect(run.parameters).toEqual(original.parameters);
      expect(run.iterations).toEqual(original.iterations);
      expect(Array.from(run.metrics.loss!)).toEqual(original.metrics.loss);
      expect(await dataset.numCheckpoints('000002')).toBe(5);
      for (let k = 0; k < 5; k++) {
        expect(await dataset.readCheckpoint('000002', k)).toEqual(original.parameters.subarray(k * D, (k + 1) * D));
      }
      const records = [];
      for await (const record of dataset.checkpoints({ runs: ['000002'] })) records.push(record);
      expect(records.map((r) => r.iteration)).toEqual(original.iterations);
      expect(records[3]!.metrics).toEqual({ loss: original.metrics.loss![3], err: original.metrics.err![3] });
      await expect(dataset.readCheckpoint('000002', 5)).rejects.toThrow(/checkpoint index 5 out of range \[0, 5\)/);
      await expect(dataset.readCheckpoint('nope', 0)).rejects.toThrow(/no run named "nope"/);
    } finally {
      await dataset.close();
    }
  });

  it('stores each run as a plain safetensors file that other tools can open', async () => {
    const dir = await datasetWithRuns(['a']);
    const { header, tensors } = await readSafetensors(runFilePath(dir, 'a'));
    expect([...tensors.keys()]).toEqual(['parameters', 'iterations', 'metrics.loss', 'metrics.err']);
    expect(tensors.get('parameters')!.shape).toEqual([5, 15]);
    expect(tensors.get('iterations')!.dtype).toBe('I64');
    expect(header.metadata).toMatchObject({ format: 'gpt-checkpoints-run', task: 'toy', run: 'a' });
    expect(header.dataStart % 8).toBe(0);
  });

  it('rejects invalid run data before writing anything, and keeps the other runs', async () => {
    const dir = await datasetWithRuns(['000000']);
    const writer = await DatasetWriter.open(dir);
    const good = makeRun(5);
    await expect(writer.writeRun('bad', { ...good, parameters: new Float32Array(D + 1) })).rejects.toThrow(/not a positive multiple of D = 15/);
    await expect(writer.writeRun('bad', { ...good, iterations: [0, 5, 5, 6, 7] })).rejects.toThrow(/iterations must increase strictly \(checkpoint 2: 5 after 5\)/);
    await expect(writer.writeRun('bad', { ...good, metrics: { loss: good.metrics.loss! } })).rejects.toThrow(/metrics \["loss"\] do not match/);
    const withNaN = Float32Array.from(good.parameters);
    withNaN[2 * D + 7] = NaN;
    await expect(writer.writeRun('bad', { ...good, parameters: withNaN })).rejects.toThrow(/parameter 7 of checkpoint 2 is NaN/);
    await expect(writer.writeRun('../evil', good)).rejects.toThrow(/invalid run name/);
    await expect(writer.writeRun('000000', good)).rejects.toThrow(/run "000000" already exists/);
    await writer.close();
    expect(await readdir(join(dir, RUNS_DIR))).toEqual(['000000.safetensors']);
    await expectRunIntact(dir, '000000', 1);
  });

  it('refuses to mix runs of a different network into an existing dataset folder', async () => {
    const dir = await datasetWithRuns(['000000']);
    const other = createManifest({ task: 'toy', tensors: [{ name: 'w', shape: [16] }], metrics: ['loss', 'err'], numTestRuns: 1 });
    await expect(DatasetWriter.create(dir, other)).rejects.toThrow(/manifest\.json: a dataset with a different manifest/);
    await expectRunIntact(dir, '000000', 1);
  });
});

describe('crash safety and resumable generation', () => {
  it('ignores a half-written temporary file when reading and deletes it when writing resumes', async () => {
    const dir = await datasetWithRuns(['000000']);
    let deadPid = 999_990;
    while (processAlive(deadPid)) deadPid -= 1;
    const leftover = join(dir, RUNS_DIR, `.000001.safetensors.tmp-${deadPid}-deadbeef`);
    await writeFile(leftover, new Uint8Array(100));
    const dataset = await CheckpointDataset.open(dir);
    expect(dataset.runs).toEqual(['000000']);
    await dataset.close();
    await (await DatasetWriter.open(dir)).close();
    await expect(stat(leftover)).rejects.toThrow(/ENOENT/);
    await expectRunIntact(dir, '000000', 1);
  });

  it('resumes after a crash: complete runs are kept, the failed and missing ones are made', async () => {
    const dir = await tempDir();
    const names = ['000000', '000001', '000002', '000003'];
    const made: string[] = [];
    const crashing = (run: string, index: number) => {
      if (run === '000002') throw new Error('simulated crash');
      made.push(run);
      return makeRun(index + 1);
    };
    await expect(generateDataset(dir, SMALL_MANIFEST, { runs: names, makeRun: crashing })).rejects.toThrow('simulated crash');
    expect(made).toEqual(['000000', '000001']);

    const events: GenerateProgressEvent[] = [];
    made.length = 0;
    const result = await generateDataset(dir, SMALL_MANIFEST, {
      runs: names,
      makeRun: (run, index) => (made.push(run), makeRun(index + 1)),
      onProgress: (e) => events.push(e),
    });
    expect(made).toEqual(['000002', '000003']);
    expect(result).toEqual({ written: ['000002', '000003'], skipped: ['000000', '000001'] });
    expect(events.filter((e) => e.type === 'run-skipped').map((e) => e.run)).toEqual(['000000', '000001']);
    const written = events.find((e) => e.type === 'run-written');
    expect(written).toMatchObject({ run: '000002', index: 2, total: 4, numCheckpoints: 5 });
    for (const [i, run] of names.entries()) await expectRunIntact(dir, run, i + 1);
  });

  it('remakes a run whose file is damaged (e.g. copied in half) and reports why', async () => {
    const dir = await tempDir();
    const names = ['000000', '000001'];
    await generateDataset(dir, SMALL_MANIFEST, { runs: names, makeRun: (_, i) => makeRun(i + 1) });
    await truncate(runFilePath(dir, '000001'), 50);
    const events: GenerateProgressEvent[] = [];
    const result = await generateDataset(dir, SMALL_MANIFEST, { runs: names, makeRun: (_, i) => makeRun(i + 1), onProgress: (e) => events.push(e) });
    expect(result.written).toEqual(['000001']);
    const redo = events.find((e) => e.type === 'run-redo');
    expect(redo).toMatchObject({ run: '000001' });
    expect((redo as { problem: string }).problem).toMatch(/000001\.safetensors: /);
    await expectRunIntact(dir, '000001', 2);
  });

  it('stops between runs when aborted, keeping what is complete', async () => {
    const dir = await tempDir();
    const controller = new AbortController();
    const run = generateDataset(dir, SMALL_MANIFEST, {
      runs: ['000000', '000001', '000002'],
      makeRun: (name, i) => {
        if (name === '000001') controller.abort();
        return makeRun(i + 1);
      },
      signal: controller.signal,
    });
    await expect(run).rejects.toThrow(/abort/i);
    const dataset = await CheckpointDataset.open(dir);
    expect(dataset.runs).toEqual(['000000']);
    await dataset.close();
    await expectRunIntact(dir, '000000', 1);
  });
});

describe('bad run files: clear errors, other runs stay readable', () => {
  async function replaceRun(dir: string, run: string, bytes: Uint8Array[] | Uint8Array): Promise<void> {
    const chunks = Array.isArray(bytes) ? bytes : [bytes];
    await writeFile(runFilePath(dir, run), Buffer.concat(chunks));
  }

  async function expectBadRun(dir: string, pattern: RegExp): Promise<void> {
    const dataset = await CheckpointDataset.open(dir);
    try {
      const error = await dataset.readCheckpoint('000001', 0).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CheckpointFormatError);
      expect((error as CheckpointFormatError).file).toBe(runFilePath(dir, '000001'));
      expect((error as Error).message).toMatch(pattern);
      expect(await dataset.readCheckpoint('000000', 2)).toEqual(makeRun(1).parameters.subarray(2 * D, 3 * D));
      expect(await dataset.readCheckpoint('000002', 4)).toEqual(makeRun(3).parameters.subarray(4 * D, 5 * D));
      const report = await dataset.validate();
      expect(report.ok).toEqual(['000000', '000002']);
      expect(report.bad.map((b) => b.run)).toEqual(['000001']);
    } finally {
      await dataset.close();
    }
  }

  const runMetadata = { format: 'gpt-checkpoints-run', formatVersion: '1', task: 'toy', run: '000001' };
  const vectors = (n: number) => [
    { name: 'iterations', dtype: 'I64' as const, shape: [n], data: BigInt64Array.from({ length: n }, (_, k) => BigInt(k)) },
    { name: 'metrics.loss', dtype: 'F64' as const, shape: [n], data: new Float64Array(n) },
    { name: 'metrics.err', dtype: 'F64' as const, shape: [n], data: new Float64Array(n) },
  ];

  it('truncated run file', async () => {
    const dir = await datasetWithRuns(['000000', '000001', '000002']);
    const { size } = await stat(runFilePath(dir, '000001'));
    await truncate(runFilePath(dir, '000001'), size - 20);
    await expectBadRun(dir, /truncated: the header describes \d+ bytes of tensor data but the file holds only \d+/);
  });

  it('header length beyond the file', async () => {
    const dir = await datasetWithRuns(['000000', '000001', '000002']);
    const bytes = new Uint8Array(await readFile(runFilePath(dir, '000001')));
    new DataView(bytes.buffer).setBigUint64(0, 1n << 40n, true);
    await replaceRun(dir, '000001', bytes);
    await expectBadRun(dir, /header length 1099511627776 goes beyond the end of the file/);
  });

  it('wrong dtype of the parameters', async () => {
    const dir = await datasetWithRuns(['000000', '000001', '000002']);
    const tensors = [{ name: 'parameters', dtype: 'F64' as const, shape: [5, D], data: new Float64Array(5 * D) }, ...vectors(5)];
    await replaceRun(dir, '000001', encodeSafetensors(tensors, runMetadata));
    await expectBadRun(dir, /"parameters" has dtype F64, expected F32/);
  });

  it('shape not matching the manifest', async () => {
    const dir = await datasetWithRuns(['000000', '000001', '000002']);
    const tensors = [{ name: 'parameters', dtype: 'F32' as const, shape: [5, D + 1], data: new Float32Array(5 * (D + 1)) }, ...vectors(5)];
    await replaceRun(dir, '000001', encodeSafetensors(tensors, runMetadata));
    await expectBadRun(dir, /"parameters" has shape \[5,16\], but the manifest says \[numCheckpoints >= 1, 15\]/);
  });

  it('a metric vector of the wrong length, and a file that is not a run file', async () => {
    const dir = await datasetWithRuns(['000000', '000001', '000002']);
    const tensors = [{ name: 'parameters', dtype: 'F32' as const, shape: [5, D], data: new Float32Array(5 * D) }, ...vectors(4)];
    await replaceRun(dir, '000001', encodeSafetensors(tensors, runMetadata));
    await expectBadRun(dir, /"iterations" has shape \[4\], expected \[5\]/);
    await writeSafetensors(runFilePath(dir, '000001'), [{ name: 'x', dtype: 'F32', shape: [1], data: new Float32Array(1) }]);
    await expectBadRun(dir, /not a run file of a checkpoint dataset/);
  });

  it('non-finite values: readable by default, a named error with checkFinite', async () => {
    const dir = await datasetWithRuns(['000000']);
    const writer = await DatasetWriter.open(dir);
    const run = makeRun(9);
    run.parameters[3 * D + 4] = Infinity;
    await writer.writeRun('000001', run, { allowNonFinite: true });
    await writer.close();
    const lenient = await CheckpointDataset.open(dir);
    expect((await lenient.readCheckpoint('000001', 3))[4]).toBe(Infinity);
    await lenient.close();
    const strict = await CheckpointDataset.open(dir, { checkFinite: true });
    await expect(strict.readCheckpoint('000001', 3)).rejects.toThrow(/000001\.safetensors: checkpoint 3: parameter 4 is Infinity/);
    await expect(strict.readRun('000001')).rejects.toThrow(/checkpoint 3: parameter 4 is Infinity/);
    expect(await strict.readCheckpoint('000001', 2)).toEqual(run.parameters.subarray(2 * D, 3 * D));
    const report = await strict.validate({ checkFinite: true });
    expect(report.bad.map((b) => b.run)).toEqual(['000001']);
    await strict.close();
  });

  it('a stray folder inside runs/ named like a run is reported when read, not at open', async () => {
    const dir = await datasetWithRuns(['000000']);
    await mkdir(join(dir, RUNS_DIR, '000001.safetensors'));
    const dataset = await CheckpointDataset.open(dir);
    await expect(dataset.readCheckpoint('000001', 0)).rejects.toThrow(/000001\.safetensors: run file is a directory, not a regular file/);
    expect((await dataset.readRun('000000')).parameters).toEqual(makeRun(1).parameters);
    await dataset.close();
  });
});
