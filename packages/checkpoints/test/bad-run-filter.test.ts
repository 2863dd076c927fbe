import { execFileSync } from 'node:child_process';
import { mkdir, rename, truncate } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { badCheckpointReason, badRunReason, findBadRuns } from '../src/index.js';
import { CheckpointDataset, DatasetWriter, runFilePath } from '../src/node.js';
import { SMALL_MANIFEST, makeRun } from './helpers/runs.js';
import { useTempDirs } from './helpers/temp-dir.js';

const tempDir = useTempDirs();
const D = SMALL_MANIFEST.parameterCount;

describe('bad-run filter (official rule: non-finite or |param| > 10 removes the run)', () => {
  it('names the first offending value; exactly 10 passes', () => {
    expect(badCheckpointReason(Float32Array.of(1, -10, 10))).toBeNull();
    expect(badCheckpointReason(Float32Array.of(1, -10.5))).toBe('|parameter 1| = 10.5 > 10');
    expect(badCheckpointReason(Float32Array.of(0, 0, NaN))).toBe('parameter 2 is NaN');
    expect(badCheckpointReason(Float32Array.of(-Infinity))).toBe('parameter 0 is -Infinity');
    expect(badRunReason(Float32Array.of(0, 1, 2, 3, 40, 5), 2)).toBe('checkpoint 2: |parameter 0| = 40 > 10');
    expect(badRunReason(Float32Array.of(0, 1, 2, 3, 40, 5), 2, 100)).toBeNull();
  });

  it('finds diverged, non-finite and unreadable runs in a dataset, and the rest can be opened without them', async () => {
    const dir = await tempDir();
    const writer = await DatasetWriter.create(dir, SMALL_MANIFEST);
    await writer.writeRun('000000', makeRun(1));
    const big = makeRun(2);
    big.parameters[4 * D + 1] = -11;
    await writer.writeRun('000001', big);
    const nan = makeRun(3);
    nan.parameters[D] = NaN;
    await writer.writeRun('000002', nan, { allowNonFinite: true });
    await writer.writeRun('000003', makeRun(4));
    await writer.writeRun('000004', makeRun(5));
    await truncate(runFilePath(dir, '000004'), 40);

    const dataset = await CheckpointDataset.open(dir);
    const progress: string[] = [];
    const bad = await findBadRuns(dataset, { onProgress: (e) => progress.push(`${e.run}:${e.bad}`) });
    await dataset.close();
    expect(bad.map((b) => b.run)).toEqual(['000001', '000002', '000004']);
    expect(bad[0]!.reason).toBe('checkpoint 4: |parameter 1| = 11 > 10');
    expect(bad[1]!.reason).toBe('checkpoint 1: parameter 0 is NaN');
    expect(bad[2]!.reason).toMatch(/^unreadable: .*000004\.safetensors: /);
    expect(progress).toEqual(['000000:false', '000001:true', '000002:true', '000003:false', '000004:true']);

    const clean = await CheckpointDataset.open(dir, { excludeRuns: bad.map((b) => b.run) });
    expect(clean.runs).toEqual(['000000', '000003']);
    expect(clean.split.test).toEqual(['000003']);
    expect((await clean.readRun('000003')).parameters).toEqual(makeRun(4).parameters);
    await clean.close();
  });

  it('drops run entries that are a FIFO, a folder or another run renamed, as unreadable, without blocking', async () => {
    const dir = await tempDir();
    const writer = await DatasetWriter.create(dir, SMALL_MANIFEST, { noSync: true });
    await writer.writeRun('000000', makeRun(1));
    await writer.writeRun('000001', makeRun(2));
    await writer.close();
    execFileSync('mkfifo', [runFilePath(dir, '000002')]);
    await mkdir(runFilePath(dir, '000003'));
    await rename(runFilePath(dir, '000001'), runFilePath(dir, '000004'));
    const dataset = await CheckpointDataset.open(dir);
    const bad = await findBadRuns(dataset);
    await dataset.close();
    expect(bad.map((b) => [b.run, b.reason.replace(dir, '<dir>')])).toEqual([
      ['000002', 'unreadable: <dir>/runs/000002.safetensors: run file is a FIFO (named pipe), not a regular file'],
      ['000003', 'unreadable: <dir>/runs/000003.safetensors: run file is a directory, not a regular file'],
      ['000004', expect.stringMatching(/^unreadable: .*000004\.safetensors: run file of run "000001" stored as run "000004"/)],
    ]);
  });
});
