// Bad input to trainGpt gets an error that names the folder or option and what is wrong:
// a dataset of another task, a missing folder or one that is not a dataset, a task whose
// network or metric the dataset does not have, initial weights whose tokens cover another
// D, no training runs, bad hyper-parameters; and a task given by its registry name works.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveGptConfig, Gpt } from '@gpt/transformer';
import { afterAll, describe, expect, it } from 'vitest';
import { registerTask } from '../src/tasks/registry.js';
import { trainGpt } from '../src/train/trainer.js';
import { removeTempDirs, tempDir, toyTask, toyTrainOptions, writeToyDataset } from './train-toy.js';

afterAll(removeTempDirs);

/** The toy options without data and task (each case gives its own). */
const { data: _data, task: _task, ...BASE } = toyTrainOptions('', { batchSize: 4, steps: 1 });

describe('trainGpt bad input', () => {
  it('a dataset of another task, a missing folder, a folder that is not a dataset', async () => {
    const other = await writeToyDataset({ task: 'cartpole', runs: 4, numTestRuns: 1 });
    await expect(trainGpt({ ...BASE, data: other, task: toyTask() })).rejects.toThrow(`dataset "${other}" holds "cartpole" runs (manifest.json task) but task "toy_loss" trains on "toy" datasets`);
    const missing = join(await tempDir(), 'nope');
    await expect(trainGpt({ ...BASE, data: missing, task: toyTask() })).rejects.toThrow(`data folder "${missing}" does not exist`);
    const empty = join(await tempDir(), 'empty');
    await mkdir(empty);
    await expect(trainGpt({ ...BASE, data: empty, task: toyTask() })).rejects.toThrow(/manifest\.json.*missing manifest: this folder is not a checkpoint dataset/);
  });

  it("a network the dataset does not hold, a metric it does not record, tokens that do not cover the dataset's D", async () => {
    const smaller = await writeToyDataset({ tensors: [{ name: 'w', shape: [4, 2] }, { name: 'b', shape: [4] }], runs: 4, numTestRuns: 1 });
    await expect(trainGpt({ ...BASE, data: smaller, task: toyTask() })).rejects.toThrow(`dataset "${smaller}" has D = 12 parameters per checkpoint but task "toy_loss" has D = 16`);
    const data = await writeToyDataset({ runs: 4, numTestRuns: 1 });
    const accuracy = { ...toyTask(), metric: { name: 'acc', label: 'accuracy', unit: '%', goal: 'maximize' as const } };
    await expect(trainGpt({ ...BASE, data, task: accuracy })).rejects.toThrow(`dataset "${data}" records the metrics loss but task "toy_loss" is conditioned on "acc"`);
    // Weights of a G.pt built for D = 12 (tokens 9 and 3) cannot start a run on D = 16.
    const config = resolveGptConfig('tiny');
    const foreign = new Gpt([9, 3], config, { seed: 1 });
    const init = { task: 'toy_loss', config, model: foreign, diffusionSteps: 1000, noiseSchedule: 'linear' as const, normalizationCoefficient: 1, step: 0 };
    await expect(trainGpt({ ...BASE, data, task: toyTask(), init })).rejects.toThrow('trainGpt: init model: its 2 parameter tokens (sizes 9, 3) cover D = 12 parameters, but the dataset has D = 16');
    foreign.dispose();
  });

  it('no training runs left, bad hyper-parameters, unknown presets and tasks', async () => {
    const data = await writeToyDataset({ runs: 4, numTestRuns: 1 });
    await expect(trainGpt({ ...BASE, data, task: toyTask(), numTestRuns: 4 })).rejects.toThrow(`dataset "${data}" has 4 runs and 4 are held out for testing: no training runs left`);
    await expect(trainGpt({ ...BASE, data, task: toyTask(), batchSize: 0 })).rejects.toThrow('trainGpt: batchSize must be a positive integer, got 0');
    await expect(trainGpt({ ...BASE, data, task: toyTask(), lr: -1 })).rejects.toThrow('trainGpt: lr must be a positive number, got -1');
    await expect(trainGpt({ ...BASE, data, task: toyTask(), ema: { decay: 2 } })).rejects.toThrow('trainGpt: ema.decay must be in [0, 1], got 2');
    await expect(trainGpt({ ...BASE, data, task: toyTask(), steps: undefined })).rejects.toThrow('trainGpt: steps is not set (the constant schedule has no natural end)');
    await expect(trainGpt({ ...BASE, data, task: toyTask(), model: { nEmbd: 30, nHead: 4 } })).rejects.toThrow('trainGpt: model: GptConfig: nEmbd 30 is not a multiple of nHead 4');
    await expect(trainGpt({ data, preset: 'mnist-tiny' as 'mnist-small' })).rejects.toThrow(/unknown training preset "mnist-tiny"; known presets: mnist_loss, .*cartpole-small/);
    await expect(trainGpt({ ...BASE, data, task: 'no_such_task' })).rejects.toThrow(/unknown task "no_such_task"/);
    await expect(trainGpt({ ...BASE, data, task: toyTask(), device: 'tpu' })).rejects.toThrow(/trainGpt: unknown device "tpu"/);
  });

  it('trains a task given by its registry name', async () => {
    registerTask({ name: 'toy_registered', description: 'the toy, registered', create: async () => toyTask('toy_registered') });
    const data = await writeToyDataset({ runs: 4, numTestRuns: 1 });
    const result = await trainGpt({ ...BASE, data, task: 'toy_registered', steps: 2 });
    expect(result.trained.task).toBe('toy_registered');
    expect(result.history).toHaveLength(2);
    result.trained.model.dispose();
  });
});
