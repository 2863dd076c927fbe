// Periodic evaluation: the evaluate callback gets the EMA weights (the bytes of the EMA
// file saved at that step), the best checkpoint follows its score (larger is better), and
// without a callback it follows the held-out loss (smaller is better).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { saveStateDict } from '@gpt/nn';
import { afterAll, describe, expect, it } from 'vitest';
import { STATE_FILES, loadTrainedGpt, readPointer } from '../src/train/train-state.js';
import { trainGpt, type TrainGptOptions } from '../src/train/trainer.js';
import { readTrainLog } from '../src/train/train-log.js';
import { promptAlignmentEvaluator } from '../src/train/alignment-evaluator.js';
import { promptAlignment } from '../src/eval/alignment.js';
import { CheckpointDataset } from '@gpt/checkpoints/node';
import { removeTempDirs, tempDir, toyTask, toyTrainOptions, writeToyDataset } from './train-toy.js';

afterAll(removeTempDirs);

const EMA_METADATA = { metadata: { format: 'gpt-state-dict', role: 'G_ema' } };

function options(data: string, out: string): TrainGptOptions {
  return toyTrainOptions(data, { out, ema: { decay: 0.8 }, evalEvery: 2, evalPairs: 16, checkpointEvery: 100, steps: 6 });
}

describe('evaluation during training', () => {
  it('the callback sees the EMA model and the best checkpoint follows its score', async () => {
    const data = await writeToyDataset();
    const out = await tempDir();
    const scores: Record<number, number> = { 2: 1, 4: 5, 6: 3 };
    const seen: Record<number, Buffer> = {};
    const result = await trainGpt({
      ...options(data, out),
      evaluate: async (trained, { step }) => {
        seen[step] = Buffer.from(await saveStateDict(trained.model, EMA_METADATA));
        expect(trained.step).toBe(step);
        return { score: scores[step]!, metrics: { fake: step } };
      },
    });
    result.trained.model.dispose();
    expect(Object.keys(seen).map(Number)).toEqual([2, 4, 6]);
    expect(await readPointer(out, 'best')).toBe('checkpoints/step-000000004');
    expect(await readPointer(out, 'latest')).toBe('checkpoints/step-000000006');
    for (const step of [4, 6]) {
      const saved = await readFile(join(out, `checkpoints/step-00000000${step}`, STATE_FILES.ema));
      expect(saved.equals(seen[step]!), `EMA at step ${step}`).toBe(true);
    }
    expect(seen[4]!.equals(seen[6]!)).toBe(false);
    const best = await loadTrainedGpt(out, { which: 'best' });
    expect(best.step).toBe(4);
    best.model.dispose();
    const evals = (await readTrainLog(out)).filter((r) => r.type === 'eval');
    expect(evals.map((r) => [r.step, r.score, r.best])).toEqual([
      [0, null, false],
      [2, 1, true],
      [4, 5, true],
      [6, 3, false],
    ]);
    expect(evals[2]).toMatchObject({ metrics: { fake: 4 }, heldOutLoss: expect.any(Number) });
  });

  it('without a callback the best checkpoint has the lowest held-out loss', async () => {
    const data = await writeToyDataset();
    const out = await tempDir();
    const result = await trainGpt({ ...options(data, out), steps: 8 });
    result.trained.model.dispose();
    const evals = (await readTrainLog(out)).filter((r) => r.type === 'eval' && (r.step as number) > 0) as { step: number; heldOutLoss: number }[];
    const lowest = evals.reduce((a, b) => (b.heldOutLoss < a.heldOutLoss ? b : a));
    expect(await readPointer(out, 'best')).toBe(`checkpoints/step-${String(lowest.step).padStart(9, '0')}`);
    expect(result.bestHeldOutLoss).toBe(lowest.heldOutLoss);
  });

  it('promptAlignmentEvaluator scores the EMA model on the first checkpoints of the test runs', async () => {
    const data = await writeToyDataset({ runs: 12, numTestRuns: 3 });
    const out = await tempDir();
    const sweep = { prompts: 4, steps: 5 };
    const result = await trainGpt({ ...options(data, out), evaluate: promptAlignmentEvaluator(toyTask(), data, { networks: 2, ...sweep }), evaluateEvery: 3 });
    result.trained.model.dispose();
    const scored = (await readTrainLog(out)).filter((r) => r.type === 'eval' && r.score !== null);
    expect(scored.map((r) => r.step)).toEqual([3, 6]);
    // The same score, computed directly from the saved EMA model and the test runs' initial checkpoints.
    const dataset = await CheckpointDataset.open(data);
    const inits = await Promise.all(dataset.split.test.slice(0, 2).map((run) => dataset.readCheckpoint(run, 0)));
    await dataset.close();
    const trained = await loadTrainedGpt(out);
    const report = await promptAlignment(trained, toyTask(), inits, { sampler: 'ddim', seed: 0, ...sweep });
    trained.model.dispose();
    expect(scored[1]!.score).toBe(report.promptAlignment);
    expect(scored[1]!.metrics).toMatchObject({ medianR2: report.medianR2 });
  });
});
