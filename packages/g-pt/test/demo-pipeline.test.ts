// The demo end to end at a tiny scale (not its quality): the report's structure, its files,
// and that its numbers are measured — the "before" metrics are the task's evaluation of
// the unseen initializations, the alignment and the gradient baseline start from the same
// networks, the summary prints the report's numbers. Plus the command line's options.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import '../src/tasks/builtin.js';
import { cli, demoSettings, formatDemoSummary } from '../src/cli/demo.js';
import { parseCli, runCli, CliUsageError } from '../src/cli/options.js';
import * as optimizeCli from '../src/cli/optimize.js';
import * as evalCli from '../src/cli/eval.js';
import { DEMO_PRESETS, runDemo, unseenInitializations, UNSEEN_RUN_BASE, type DemoEvent } from '../src/eval/demo-pipeline.js';
import { createTask } from '../src/tasks/registry.js';

const dir = mkdtempSync(join(tmpdir(), 'gpt-demo-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('runDemo at a tiny scale', () => {
  it('runs data -> G.pt -> one step, alignment, Adam/SGD and writes the report and plots', async () => {
    const settings = {
      ...DEMO_PRESETS.moons_loss!,
      runs: 12,
      checkpointsPerRun: 8,
      model: { nEmbd: 16, nLayer: 1, nHead: 2, splitPolicy: 'layer_by_layer' as const },
      batchSize: 16,
      trainSteps: 6,
      networks: 3,
      alignmentNetworks: 2,
      sampleSteps: 3,
      gradientSteps: 4,
      adamLearningRates: [0.01, 0.1],
      sgdLearningRates: [0.5],
      seed: 1,
      out: join(dir, 'demo'),
    };
    const phases: string[] = [];
    const report = await runDemo(settings, { onEvent: (e: DemoEvent) => e.type === 'phase' && phases.push(e.phase) });
    expect(phases).toEqual(['task', 'data', 'train', 'one-step', 'alignment', 'gradient', 'plots']);

    // The printed "before" numbers are the task's measurement of the unseen initializations.
    const task = await createTask('moons_loss');
    const inits = unseenInitializations(task, 3, 1);
    const measured = (await task.evaluate(inits)).map((m) => m.avg_test_loss!);
    expect(report.oneStep.before).toEqual(measured);
    expect(report.oneStep.meanBefore).toBeCloseTo(measured.reduce((a, b) => a + b, 0) / 3, 12);
    expect(report.oneStep.after).toHaveLength(3);
    report.oneStep.after.forEach((v) => expect(Number.isFinite(v)).toBe(true));
    expect(report.oneStep.meanAfter).toBeCloseTo(report.oneStep.after.reduce((a, b) => a + b, 0) / 3, 12);
    // The alignment and the baseline start from the same networks.
    expect(report.alignment.networks.map((n) => n.startMetric)).toEqual(measured.slice(0, 2));
    expect(report.alignment.networks[0]!.prompts).toHaveLength(20);
    expect(report.gradient!.startMetric).toBeCloseTo(report.oneStep.meanBefore, 12);
    expect(report.gradient!.curves.map((c) => `${c.optimizer} ${c.lr}`)).toEqual(['adam 0.01', 'adam 0.1', 'sgd 0.5']);
    expect(report.gradient!.curves[0]!.steps).toEqual([1, 2, 3, 4]);
    expect(report.training.steps).toBe(6);
    expect(report.dataset.written).toBe(12);
    expect(report.training.normalizationCoefficient).toBeGreaterThan(0);

    // Files: report.json holds the report, the plots are SVG.
    expect(report.files.map((f) => f.slice(settings.out.length + 1))).toEqual(['desired-vs-observed.svg', 'gpt-vs-gradient.svg', 'report.json']);
    const saved = JSON.parse(readFileSync(join(settings.out, 'report.json'), 'utf8'));
    expect(saved.oneStep).toEqual(report.oneStep);
    expect(saved.alignment.promptAlignment).toBe(report.alignment.promptAlignment);
    for (const svg of report.files.filter((f) => f.endsWith('.svg'))) expect(readFileSync(svg, 'utf8')).toMatch(/^<svg/);

    // The summary prints the report's numbers.
    const text = formatDemoSummary(report).join('\n');
    expect(text).toContain(`${report.oneStep.meanBefore.toFixed(3)} before -> ${report.oneStep.meanAfter.toFixed(3)} after one G.pt update`);
    expect(text).toContain(`R² ${report.alignment.promptAlignment.toFixed(3)}`);
    expect(text).toMatch(/one G\.pt update is worth (\d+|more than 4) Adam steps/);

    // gpt optimize and gpt eval on the G.pt the demo saved: their JSON holds measured numbers.
    let exitCode = 0;
    const io = { stdout: () => undefined, stderr: () => undefined, setExitCode: (code: number) => void (exitCode = code) };
    const optimizeOut = join(dir, 'optimize');
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await runCli(optimizeCli.cli, optimizeCli.main, ['--model', report.training.dir, '--networks', '2', '--steps', '2', '--prompt', '0.2', '--seed', '1', '--out', optimizeOut], io);
      await runCli(evalCli.cli, evalCli.main, ['--model', report.training.dir, '--networks', '2', '--steps', '2', '--prompts', '3', '--gradient-steps', '2', '--adam-lrs', '0.1', '--sgd-lrs', '1', '--seed', '1', '--out', join(dir, 'eval')], io);
    } finally {
      process.stdout.write = write;
    }
    expect(exitCode).toBe(0);
    const optimized = JSON.parse(readFileSync(join(optimizeOut, 'optimize.json'), 'utf8'));
    expect(optimized.networks.map((n: { before: number }) => n.before)).toEqual(measured.slice(0, 2)); // seed 1: the demo's first inits
    expect(existsSync(join(optimizeOut, 'optimized.safetensors'))).toBe(true);
    const evaluated = JSON.parse(readFileSync(join(dir, 'eval', 'eval.json'), 'utf8'));
    expect(evaluated.alignment.networks[0].startMetric).toBe(measured[0]);
    expect(evaluated.recursive.metrics[0][0]).toBe(measured[0]);
    expect(evaluated.gradient.curves).toHaveLength(2);
    await runCli(evalCli.cli, evalCli.main, ['--model', report.training.dir, '--only', 'bogus'], io);
    expect(exitCode).toBe(2);
    await runCli(optimizeCli.cli, optimizeCli.main, ['--modle', 'x'], io);
    expect(exitCode).toBe(2);

    // A second demo in the same folder reuses the dataset.
    const again = await runDemo({ ...settings, trainSteps: 2, gradientSteps: 1 });
    expect(again.dataset.written).toBe(0);
    expect(again.oneStep.before).toEqual(measured);
  }, 60_000);

  it('draws unseen initializations from runs no dataset holds', async () => {
    const task = await createTask('moons_loss');
    const a = unseenInitializations(task, 2);
    expect(a[0]).not.toEqual(a[1]);
    expect(unseenInitializations(task, 1)[0]).toEqual(a[0]);
    expect(UNSEEN_RUN_BASE).toBeGreaterThan(100_000);
    const [run0] = await task.trainRuns([0], { checkpointsPerRun: 2 });
    expect(run0!.parameters.subarray(0, 66)).not.toEqual(a[0]);
  });
});

describe('gpt demo options', () => {
  const parse = (argv: string[]) => {
    const parsed = parseCli(cli, argv);
    if (parsed.help) throw new Error('unexpected help');
    return demoSettings(parsed.values);
  };

  it('takes the task preset and the flags given on top', () => {
    const s = parse(['--runs', '20', '--width', '32', '--heads', '4', '--out', dir]);
    expect(s.runs).toBe(20);
    expect(s.model).toMatchObject({ nEmbd: 32, nHead: 4, nLayer: DEMO_PRESETS.moons_loss!.model.nLayer });
    expect(s.trainSteps).toBe(DEMO_PRESETS.moons_loss!.trainSteps);
    expect(parse(['--task', 'mnist_error']).task).toBe('mnist_error');
    expect(parse(['--sampler', 'ddpm']).sampleSteps).toBe(1000);
  });

  it('rejects unknown or bad options with a usage error', () => {
    expect(() => parseCli(cli, ['--runz', '3'])).toThrow(CliUsageError);
    expect(() => parseCli(cli, ['--task', 'cifar'])).toThrow(/--task/);
    expect(() => parse(['--width', '30', '--heads', '4'])).toThrow(/--heads 4 does not divide the width 30/);
    expect(parseCli(cli, ['--help']).help).toBe(true);
  });

  it('has a preset for the MNIST task one flag away', () => {
    expect(existsSync(join(dir))).toBe(true);
    expect(DEMO_PRESETS.mnist_error!.task).toBe('mnist_error');
  });
});
