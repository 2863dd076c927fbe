// The official G.pt dataset layout: run directories with an LMDB environment, runs.json
// and DONE.txt. Two sources of LMDB files are tested: fixtures written by py-lmdb
// (format version 1, as the released datasets) and datasets this test writes itself
// with the `lmdb` npm package (format version 2).
import { cp, mkdir, rm, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { open as openLmdb } from 'lmdb';
import { describe, expect, it } from 'vitest';
import { CARTPOLE_TASK, CheckpointFormatError, MNIST_TASK, PairSampler } from '../src/index.js';
import { CheckpointDataset } from '../src/node.js';
import { OfficialDataset, convertOfficialDataset, lmdbDataVersion, parseOfficialKey, parsePythonJson, type ConvertProgressEvent } from '../src/lmdb.js';
import { useTempDirs } from './helpers/temp-dir.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'official-lmdb');
const tempDir = useTempDirs();

/** The formula the fixture script used for parameter j of checkpoint k of run r. */
const fixtureValue = (r: number, k: number, j: number) => Math.fround((((r * 7 + k * 13 + j * 3) % 2001) - 1000) / 1024);

describe('official datasets written by py-lmdb (LMDB format version 1)', () => {
  it('reads Cartpole runs, including a fused directory, with the exact values, returns and iterations', async () => {
    const dataset = await OfficialDataset.open(join(FIXTURES, 'cartpole'), { task: CARTPOLE_TASK });
    try {
      expect(await lmdbDataVersion(join(FIXTURES, 'cartpole', '000000', 'data.mdb'))).toBe(1);
      expect(dataset.runs).toEqual(['000000', '000001', '000002', '000003', '000004']);
      expect(dataset.parameterCount).toBe(1250);
      for (const [r, run] of dataset.runs.entries()) {
        const info = await dataset.run(run);
        expect(info.iterations).toEqual([0, 3, 17, 499]);
        expect(info.architecture).toEqual([1, 128, 32, 1024, 32, 32, 1]);
        expect(Array.from(await dataset.metric(run, 'train_ret'))).toEqual([0, 1, 2, 3].map((k) => k * 100 + r + 0.25));
        for (const k of [0, 3]) {
          const values = await dataset.readCheckpoint(run, k);
          expect(values).toEqual(Float32Array.from({ length: 1250 }, (_, j) => fixtureValue(r, k, j)));
        }
      }
      expect(dataset.runDirectory('000004')).toBe(join(FIXTURES, 'cartpole', '000003_000004'));
    } finally {
      await dataset.close();
    }
  });

  it('walks a multi-level B+tree (600 keys over several leaf pages) and infers D from "_arch"', async () => {
    const dataset = await OfficialDataset.open(join(FIXTURES, 'sgd-deep'), { iterationsPerEpoch: 10 });
    try {
      expect(dataset.parameterCount).toBe(3);
      const info = await dataset.run('000000');
      expect(info.keys).toHaveLength(300);
      expect(info.iterations).toEqual(Array.from({ length: 300 }, (_, k) => k));
      for (const k of [0, 1, 150, 299]) expect(await dataset.readCheckpoint('000000', k)).toEqual(Float32Array.from([0, 1, 2], (j) => fixtureValue(0, k, j)));
      expect((await dataset.metric('000000', 'avg_test_err'))[250]).toBeCloseTo(65, 12);
    } finally {
      await dataset.close();
    }
  });

  it('converts to our format: same values, iterations and metrics, resumable', async () => {
    const dest = join(await tempDir(), 'converted');
    const summary = await convertOfficialDataset(join(FIXTURES, 'cartpole'), dest, { task: CARTPOLE_TASK, numTestRuns: 2 });
    expect(summary.converted).toEqual(['000000', '000001', '000002', '000003', '000004']);
    const dataset = await CheckpointDataset.open(dest);
    expect(dataset.manifest.task).toBe('cartpole');
    expect(dataset.split.test).toEqual(['000003', '000004']);
    const run = await dataset.readRun('000003');
    expect(run.iterations).toEqual([0, 3, 17, 499]);
    expect(run.parameters.subarray(1250, 2500)).toEqual(Float32Array.from({ length: 1250 }, (_, j) => fixtureValue(3, 1, j)));
    expect(Array.from(run.metrics.train_ret!)).toEqual([3.25, 103.25, 203.25, 303.25]);
    expect(JSON.parse((await dataset.runInfo('000003')).metadata.officialKeys!)).toEqual(['000003/it00000.pt', '000003/it00003.pt', '000003/it00017.pt', '000003/it00499.pt']);
    await dataset.close();
    const again = await convertOfficialDataset(join(FIXTURES, 'cartpole'), dest, { task: CARTPOLE_TASK, numTestRuns: 2 });
    expect(again.converted).toEqual([]);
    expect(again.existing).toHaveLength(5);
  });

  it('reports a damaged LMDB file by name and keeps the other runs readable', async () => {
    const root = await tempDir();
    await cp(join(FIXTURES, 'cartpole'), root, { recursive: true });
    const data = join(root, '000001', 'data.mdb');
    await truncate(data, 4096 * 3);
    const dataset = await OfficialDataset.open(root, { task: CARTPOLE_TASK });
    const error = await dataset.readCheckpoint('000001', 0).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointFormatError);
    expect((error as CheckpointFormatError).file).toBe(data);
    expect((error as Error).message).toMatch(/corrupt LMDB|truncated/);
    expect(await dataset.readCheckpoint('000002', 3)).toEqual(Float32Array.from({ length: 1250 }, (_, j) => fixtureValue(2, 3, j)));
    await dataset.close();
  });

  it('feeds the pair sampler directly (it is a CheckpointSource)', async () => {
    const dataset = await OfficialDataset.open(join(FIXTURES, 'cartpole'), { task: CARTPOLE_TASK });
    const sampler = await PairSampler.create(dataset, { runs: dataset.runs, metric: 'train_ret', seed: 1, permutation: CARTPOLE_TASK.permutation });
    const batch = await sampler.sample(8);
    expect(batch.shape).toEqual([8, 1250]);
    for (let i = 0; i < 8; i++) expect(batch.metric1[i]! - batch.metric0[i]!).toBe(100 * (batch.index1[i]! - batch.index0[i]!));
    await dataset.close();
  });
});

// ---- datasets built by the test itself with the `lmdb` npm package ----

interface RunSpec {
  name: string;
  /** Overrides parameter values of checkpoint k (default: small deterministic values). */
  value?: (k: number, j: number) => number;
  skipRunsJson?: boolean;
  skipLmdb?: boolean;
  wrongLength?: boolean;
}

const MNIST_KEYS = ['ep000_it00000.pt', 'ep000_it00201.pt', 'ep024_it00468.pt'];
const mnistValue = (r: number) => (k: number, j: number) => Math.fround(((r + 1) * ((j % 97) - 48)) / 1000 + k / 8);

/** Writes an MNIST-task dataset in the official layout (keys, float32 bytes, runs.json, DONE.txt). */
async function writeOfficialDataset(root: string, runs: RunSpec[]): Promise<void> {
  const D = 7960;
  for (const [r, spec] of runs.entries()) {
    const dir = join(root, spec.name);
    await mkdir(dir, { recursive: true });
    const value = spec.value ?? mnistValue(r);
    const checkpoints: Record<string, Record<string, number>> = {};
    if (!spec.skipLmdb) {
      const db = openLmdb({ path: dir, encoding: 'binary', keyEncoding: 'binary' });
      for (const [k, suffix] of MNIST_KEYS.entries()) {
        const key = `${spec.name}/${suffix}`;
        const params = Float32Array.from({ length: spec.wrongLength && k === 1 ? D - 1 : D }, (_, j) => value(k, j));
        db.putSync(Buffer.from(key), Buffer.from(params.buffer));
        db.putSync(Buffer.from(`${key}_arch`), Buffer.from(Float32Array.of(7840, 10, 100, 10).buffer));
      }
      await db.close();
    }
    for (const [k, suffix] of MNIST_KEYS.entries()) {
      checkpoints[`${spec.name}/${suffix}`] = { avg_train_loss: 2.3 - k, avg_train_err: 90 - k, avg_test_loss: 2.2 - k / 2, avg_test_err: 88 - 10 * k };
    }
    if (!spec.skipRunsJson) await writeFile(join(dir, 'runs.json'), JSON.stringify({ checkpoints, metadata: { optimal_test_loss: 1.2 } }, null, 2));
    await writeFile(join(dir, 'DONE.txt'), '');
  }
}

describe('official layout written with the lmdb npm package (format version 2)', () => {
  it('reads and converts an MNIST dataset: absolute iterations from epoch keys, the four SGD metrics', async () => {
    const root = await tempDir();
    const source = join(root, 'mnist');
    await writeOfficialDataset(source, [{ name: '000000' }, { name: '000001' }, { name: '000002' }]);
    expect(await lmdbDataVersion(join(source, '000000', 'data.mdb'))).toBe(2);
    const events: ConvertProgressEvent[] = [];
    const summary = await convertOfficialDataset(source, join(root, 'ours'), { task: MNIST_TASK, numTestRuns: 1, onProgress: (e) => events.push(e) });
    expect(summary.converted).toEqual(['000000', '000001', '000002']);
    expect(events.map((e) => e.type)).toEqual(['run-converted', 'run-converted', 'run-converted']);
    const dataset = await CheckpointDataset.open(join(root, 'ours'));
    expect(dataset.manifest.tensors).toEqual(MNIST_TASK.tensors);
    expect(dataset.manifest.metrics).toEqual(['avg_train_loss', 'avg_train_err', 'avg_test_loss', 'avg_test_err']);
    const run = await dataset.readRun('000001');
    expect(run.iterations).toEqual([0, 201, 24 * 468 + 468]);
    expect(run.parameters.subarray(2 * 7960, 3 * 7960)).toEqual(Float32Array.from({ length: 7960 }, (_, j) => mnistValue(1)(2, j)));
    expect(Array.from(run.metrics.avg_test_err!)).toEqual([88, 78, 68]);
    await dataset.close();
  });

  it('drops runs the official filter removes (|param| > 10 or NaN) unless told not to', async () => {
    const root = await tempDir();
    const source = join(root, 'mnist');
    await writeOfficialDataset(source, [
      { name: '000000' },
      { name: '000001', value: (k, j) => (k === 2 && j === 5 ? 10.5 : 0.01) },
      { name: '000002', value: (k, j) => (k === 1 && j === 7000 ? NaN : 0.01) },
    ]);
    const summary = await convertOfficialDataset(source, join(root, 'filtered'), { task: MNIST_TASK, numTestRuns: 0 });
    expect(summary.converted).toEqual(['000000']);
    expect(summary.filtered).toEqual([
      { run: '000001', reason: 'checkpoint 2: |parameter 5| = 10.5 > 10' },
      { run: '000002', reason: 'checkpoint 1: parameter 7000 is NaN' },
    ]);
    const kept = await convertOfficialDataset(source, join(root, 'all'), { task: MNIST_TASK, numTestRuns: 0, filterBadRuns: false });
    expect(kept.converted).toEqual(['000000', '000001', '000002']);
  });

  it('a run without runs.json: clear error naming the file; earlier runs stay converted; skip mode finishes the rest', async () => {
    const root = await tempDir();
    const source = join(root, 'mnist');
    await writeOfficialDataset(source, [{ name: '000000' }, { name: '000001', skipRunsJson: true }, { name: '000002' }]);
    const official = await OfficialDataset.open(source, { task: MNIST_TASK });
    const error = await official.run('000001').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointFormatError);
    expect((error as CheckpointFormatError).file).toBe(join(source, '000001', 'runs.json'));
    expect((error as Error).message).toMatch(/missing runs\.json: run "000001" is incomplete/);
    expect((await official.readCheckpoint('000002', 0)).length).toBe(7960);
    await official.close();

    const dest = join(root, 'ours');
    await expect(convertOfficialDataset(source, dest, { task: MNIST_TASK, numTestRuns: 0 })).rejects.toThrow(/000001[/\\]runs\.json: missing runs\.json/);
    const partial = await CheckpointDataset.open(dest);
    expect(partial.runs).toEqual(['000000']);
    expect((await partial.readRun('000000')).parameters.length).toBe(3 * 7960);
    await partial.close();

    const events: ConvertProgressEvent[] = [];
    const summary = await convertOfficialDataset(source, dest, { task: MNIST_TASK, numTestRuns: 0, onInvalidRun: 'skip', onProgress: (e) => events.push(e) });
    expect(summary.existing).toEqual(['000000']);
    expect(summary.converted).toEqual(['000002']);
    expect(summary.invalid.map((i) => i.run)).toEqual(['000001']);
    expect(events.map((e) => e.type)).toEqual(['run-exists', 'run-invalid', 'run-converted']);
  });

  it('other broken runs: no LMDB, a value of the wrong length, sizes of another network', async () => {
    const root = await tempDir();
    const source = join(root, 'mnist');
    await writeOfficialDataset(source, [{ name: '000000' }, { name: '000001', skipLmdb: true }, { name: '000002', wrongLength: true }]);
    const official = await OfficialDataset.open(source, { task: MNIST_TASK });
    await expect(official.readCheckpoint('000001', 0)).rejects.toThrow(/000001[/\\]data\.mdb: missing LMDB data file/);
    await expect(official.readCheckpoint('000002', 1)).rejects.toThrow(/000002[/\\]data\.mdb: "000002\/ep000_it00201\.pt" holds 7959 float32 values, expected D = 7960/);
    expect(await official.readCheckpoint('000002', 0)).toEqual(Float32Array.from({ length: 7960 }, (_, j) => mnistValue(2)(0, j)));
    expect(await official.readCheckpoint('000000', 2)).toEqual(Float32Array.from({ length: 7960 }, (_, j) => mnistValue(0)(2, j)));
    await official.close();
    const asCifar = await OfficialDataset.open(source, { task: { ...MNIST_TASK, tensors: [{ name: 'w', shape: [7960] }] } });
    await expect(asCifar.run('000000')).rejects.toThrow(/tensor sizes \[7840,10,100,10\] do not match the mnist network \[7960\]/);
    await asCifar.close();
  });

  it('verifyDone skips unfinished run directories; abort stops between runs', async () => {
    const root = await tempDir();
    const source = join(root, 'mnist');
    await writeOfficialDataset(source, [{ name: '000000' }, { name: '000001' }]);
    await rm(join(source, '000001', 'DONE.txt'));
    expect((await OfficialDataset.open(source, { task: MNIST_TASK, verifyDone: true })).runs).toEqual(['000000']);
    const controller = new AbortController();
    const run = convertOfficialDataset(source, join(root, 'ours'), {
      task: MNIST_TASK,
      numTestRuns: 0,
      signal: controller.signal,
      onProgress: () => controller.abort(),
    });
    await expect(run).rejects.toThrow(/abort/i);
    const partial = await CheckpointDataset.open(join(root, 'ours'));
    expect(partial.runs).toEqual(['000000']);
    await partial.close();
  });
});

describe('official keys and runs.json', () => {
  it('parses epoch/iteration and iteration keys', () => {
    expect(parseOfficialKey('000007/ep003_it00012.pt', 468)).toEqual({ key: '000007/ep003_it00012.pt', run: '000007', epoch: 3, iterationInEpoch: 12, iteration: 3 * 468 + 12 });
    expect(parseOfficialKey('000007/ep003_it00012.pt')?.iteration).toBeUndefined();
    expect(parseOfficialKey('000001/it00499.pt')).toEqual({ key: '000001/it00499.pt', run: '000001', iteration: 499 });
    expect(parseOfficialKey('000001/model.pt')).toBeNull();
  });

  it("accepts Python's NaN and Infinity literals outside strings only", () => {
    expect(parsePythonJson('{"a": NaN, "b": [Infinity, -Infinity], "c": "NaN Infinity"}')).toEqual({ a: NaN, b: [Infinity, -Infinity], c: 'NaN Infinity' });
  });
});
