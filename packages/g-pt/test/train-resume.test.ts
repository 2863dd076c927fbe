// Exact resume: a run interrupted (by its step budget, or by an AbortSignal between steps)
// and resumed from its output folder ends with the same bytes in every state file (raw
// weights, EMA, AdamW moments, state.json with every generator position) as the run that
// was never interrupted. The schedule is a warmup + cosine at fractional epochs, the EMA
// switches its decay after the interruption, gradients are clipped and the held-out loss
// is evaluated in between, so each of those must be restored exactly.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lossSeries } from '../src/train/loss-plot.js';
import { readTrainLog } from '../src/train/train-log.js';
import { STATE_FILES, loadTrainedGpt, readPointer } from '../src/train/train-state.js';
import { trainGpt, type TrainGptOptions } from '../src/train/trainer.js';
import { removeTempDirs, tempDir, toyTask, toyTrainOptions, writeToyDataset } from './train-toy.js';
import { saveStateDict } from '@gpt/nn';

afterAll(removeTempDirs);

const STEPS = 6;

async function options(data: string, out: string): Promise<TrainGptOptions> {
  return toyTrainOptions(data, {
    out,
    schedule: { kind: 'cosine', epochs: 2, warmupEpochs: 0.5 },
    ema: { decay: 0.9, earlyDecay: 0.5, earlySteps: 4 },
    gradClip: 0.5,
    evalEvery: 2,
    evalPairs: 16,
    checkpointEvery: 2,
  });
}

async function finalFiles(out: string): Promise<Record<string, Buffer>> {
  const checkpoint = join(out, (await readPointer(out, 'latest'))!);
  const files: Record<string, Buffer> = {};
  for (const f of Object.values(STATE_FILES)) files[f] = await readFile(join(checkpoint, f));
  return files;
}

describe('resume', () => {
  it('continues bit for bit after a step budget and after an abort', async () => {
    const data = await writeToyDataset();
    const [outA, outB, outC] = await Promise.all([tempDir(), tempDir(), tempDir()]);

    const a = await trainGpt({ ...(await options(data, outA)), steps: STEPS });
    a.trained.model.dispose();

    // B: stops at step 3 (its own end: a checkpoint), then resumes to 6 with the same options.
    (await trainGpt({ ...(await options(data, outB)), steps: 3 })).trained.model.dispose();
    const b = await trainGpt({ ...(await options(data, outB)), steps: STEPS, resume: true });
    b.trained.model.dispose();
    expect(b.history.map((h) => h.step)).toEqual([4, 5, 6]);

    // C: aborted after step 3 completes (the trainer saves that step, then rejects), then resumed.
    const controller = new AbortController();
    await expect(
      trainGpt({ ...(await options(data, outC)), steps: STEPS, signal: controller.signal, onProgress: (e) => e.type === 'step' && e.step === 3 && controller.abort() }),
    ).rejects.toThrow(/abort/i);
    expect(await readPointer(outC, 'latest')).toBe('checkpoints/step-000000003');
    (await trainGpt({ ...(await options(data, outC)), steps: STEPS, resume: true })).trained.model.dispose();

    const [filesA, filesB, filesC] = await Promise.all([finalFiles(outA), finalFiles(outB), finalFiles(outC)]);
    for (const f of Object.values(STATE_FILES)) {
      expect(filesB[f]!.equals(filesA[f]!), `${f} of the budget-resumed run`).toBe(true);
      expect(filesC[f]!.equals(filesA[f]!), `${f} of the abort-resumed run`).toBe(true);
    }
    const state = JSON.parse(filesA['state.json']!.toString()) as { step: number; random: { diffusion: { counter: number } } };
    expect(state.step).toBe(STEPS);
    expect(state.random.diffusion.counter).toBeGreaterThan(0);

    // The log of the resumed run has every step once (the interrupted run's lines after its checkpoint are dropped).
    for (const out of [outB, outC]) {
      const records = await readTrainLog(out);
      const steps = records.filter((r) => r.type === 'step').map((r) => r.step);
      expect(steps).toEqual([1, 2, 3, 4, 5, 6]);
      // The loss plot of the resumed run covers its whole history, every step once.
      const [train] = lossSeries(records);
      expect(train!.points.map((p) => p.x)).toEqual([1, 2, 3, 4, 5, 6]);
      expect(train!.points.map((p) => p.y)).toEqual(records.filter((r) => r.type === 'step').map((r) => r.loss));
    }
    expect(b.lossPlot).toBe(join(outB, 'loss.svg'));
    const svg = await readFile(b.lossPlot!, 'utf8');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('training loss (batch)');
    // The uninterrupted run's result is what loadTrainedGpt gives back from its folder.
    const loaded = await loadTrainedGpt(outA);
    expect(loaded.step).toBe(STEPS);
    expect(loaded.task).toBe('toy_loss');
    expect(loaded.normalizationCoefficient).toBe(a.trained.normalizationCoefficient);
    expect(Buffer.from(await saveStateDict(loaded.model, { metadata: { format: 'gpt-state-dict', role: 'G_ema' } })).equals(filesA['ema.safetensors']!)).toBe(true);
    loaded.model.dispose();
  });

  it('refuses to overwrite a run without resume, and a resume with another configuration', async () => {
    const data = await writeToyDataset();
    const out = await tempDir();
    (await trainGpt({ ...(await options(data, out)), steps: 2 })).trained.model.dispose();
    await expect(trainGpt({ ...(await options(data, out)), steps: 4 })).rejects.toThrow(/already holds a training run \(checkpoints\/step-000000002\); pass resume/);
    await expect(trainGpt({ ...(await options(data, out)), steps: 4, resume: true, lr: 1e-3 })).rejects.toThrow(/keeps its configuration, and these differ: lr: saved 0.003, given 0.001/);
    await expect(trainGpt({ ...(await options(data, out)), task: { ...toyTask(), name: 'toy_other' }, steps: 4, resume: true })).rejects.toThrow(/trains task "toy_loss", not "toy_other"/);
    // Nothing was lost: the run still resumes.
    const resumed = await trainGpt({ ...(await options(data, out)), steps: 3, resume: true });
    expect(resumed.steps).toBe(3);
    resumed.trained.model.dispose();
  });

  it('an abort during the evaluate callback saves the completed step, and the resumed run continues it exactly', async () => {
    const data = await writeToyDataset();
    const [outA, outB] = await Promise.all([tempDir(), tempDir()]);
    const controller = new AbortController();
    const scoreOnly = async () => ({ score: 0 });
    (await trainGpt({ ...(await options(data, outA)), steps: STEPS, evaluate: scoreOnly, evaluateEvery: 1 })).trained.model.dispose();
    const abortAt3 = async (_model: unknown, { step, signal }: { step: number; signal?: AbortSignal }) => {
      if (step === 3) {
        controller.abort();
        signal!.throwIfAborted(); // what a long evaluation does when its signal fires
      }
      return { score: 0 };
    };
    await expect(trainGpt({ ...(await options(data, outB)), steps: STEPS, evaluate: abortAt3, evaluateEvery: 1, signal: controller.signal })).rejects.toThrow(/abort/i);
    expect(await readPointer(outB, 'latest')).toBe('checkpoints/step-000000003');
    (await trainGpt({ ...(await options(data, outB)), steps: STEPS, evaluate: scoreOnly, evaluateEvery: 1, resume: true })).trained.model.dispose();
    const [filesA, filesB] = await Promise.all([finalFiles(outA), finalFiles(outB)]);
    for (const f of [STATE_FILES.model, STATE_FILES.ema, STATE_FILES.optimizer]) expect(filesB[f]!.equals(filesA[f]!), f).toBe(true);
  });

  it('a time budget stops after the step that reaches it, saves it, and the run resumes to the same end', async () => {
    const data = await writeToyDataset();
    const [outA, outB] = await Promise.all([tempDir(), tempDir()]);
    const full = await trainGpt({ ...(await options(data, outA)), steps: STEPS });
    full.trained.model.dispose();
    expect(full.stoppedBy).toBe('steps');
    const budget = await trainGpt({ ...(await options(data, outB)), steps: STEPS, maxSeconds: 1e-9 });
    budget.trained.model.dispose();
    expect(budget.stoppedBy).toBe('time');
    expect(budget.steps).toBe(1);
    expect(await readPointer(outB, 'latest')).toBe('checkpoints/step-000000001');
    (await trainGpt({ ...(await options(data, outB)), steps: STEPS, resume: true })).trained.model.dispose();
    const [filesA, filesB] = await Promise.all([finalFiles(outA), finalFiles(outB)]);
    for (const f of Object.values(STATE_FILES)) expect(filesB[f]!.equals(filesA[f]!), f).toBe(true);
  });
});
