// `gpt data` and `gpt convert`: strict options (exit code 2), a custom task through
// --task-module, Ctrl-C that stops cleanly and says how to resume, and the official LMDB
// converter behind `gpt convert`.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CheckpointDataset } from '@gpt/checkpoints/node';
import { cli as convertCli, main as convertMain } from '../src/cli/convert.js';
import { cli as dataCli, main as dataMain } from '../src/cli/data.js';
import { gptHelp } from '../src/cli/gpt.js';
import { runCli, type CliIo } from '../src/cli/options.js';
import { generateDataset } from '../src/data/generate.js';
import './fixtures/tiny-task.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const OFFICIAL_CARTPOLE = join(import.meta.dirname, '..', '..', 'checkpoints', 'test', 'fixtures', 'official-lmdb', 'cartpole');
const root = mkdtempSync(join(tmpdir(), 'gpt-data-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function captureIo(): CliIo & { out: string; err: string; code: number | undefined } {
  const io = {
    out: '',
    err: '',
    code: undefined as number | undefined,
    stdout: (t: string) => void (io.out += t),
    stderr: (t: string) => void (io.err += t),
    setExitCode: (c: number) => void (io.code = c),
  };
  return io;
}

const TINY = ['--task', 'tiny_mlp', '--task-module', join(FIXTURES, 'tiny-task.ts'), '--checkpoints-per-run', '12', '--batch', '2', '--test-runs', '2', '--task-options', '{"samples":12000}'];

function runGpt(args: string[], onLine?: (line: string, kill: (signal: NodeJS.Signals) => void) => void): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--conditions=@gpt/source', '--import', 'tsx', join(FIXTURES, 'gpt.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    pending += chunk.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      onLine?.(pending.slice(0, nl), (signal) => child.kill(signal));
      pending = pending.slice(nl + 1);
    }
  });
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('gpt data', () => {
  it('is listed by gpt --help with gpt convert', () => {
    expect(gptHelp()).toMatch(/\n {2}data +generate a checkpoint dataset/);
    expect(gptHelp()).toMatch(/\n {2}convert +convert an official G\.pt LMDB/);
  });

  it('rejects bad options with exit code 2, before writing anything', async () => {
    const out = join(root, 'never');
    const cases: [string[], RegExp][] = [
      [['--task', 'tiny_mlp', '--runs', '0', '--out', out], /--runs "0" is below the minimum 1/],
      [['--task', 'tiny_mlp', '--out', out], /--runs is required/],
      [['--task', 'tiny_mlp', '--runs', '3', '--out', out, '--wrokers', '2'], /unknown option --wrokers \(did you mean --workers\?\)/],
      [['--task', 'no_such_task', '--runs', '3', '--out', out], /--task: unknown task "no_such_task"; known tasks: .*\(a custom task needs --task-module FILE\)/],
      [['--task', 'tiny_mlp', '--runs', '3', '--out', out, '--task-options', '{oops'], /--task-options is not valid JSON/],
      [['--task', 'tiny_mlp', '--runs', '3', '--out', out, '--task-options', '[1]'], /--task-options must be a JSON object/],
    ];
    for (const [argv, message] of cases) {
      const io = captureIo();
      await runCli(dataCli, dataMain, argv, io);
      expect(io.err, argv.join(' ')).toMatch(message);
      expect(io.code).toBe(2);
    }
    const io = captureIo();
    await runCli(dataCli, dataMain, ['--task', 'tiny_mlp', '--runs', '3', '--out', out, '--data-dir', join(root, 'no-data')], io);
    expect(io.err).toMatch(/tiny_mlp: the data folder ".*no-data" does not exist/);
    expect(io.code).toBe(1);
    expect(() => readdirSync(out)).toThrow(/ENOENT/);
  });

  it('stops on Ctrl-C saying how to resume; the same command finishes the runs', async () => {
    const out = join(root, 'interrupted');
    const reference = join(root, 'reference');
    await generateDataset({ task: 'tiny_mlp', taskOptions: { samples: 12000 }, runs: 40, out: reference, workers: 0, runsPerBatch: 2, checkpointsPerRun: 12, numTestRuns: 2, noSync: true });
    const args = ['data', ...TINY, '--runs', '40', '--out', out, '--workers', '2', '--json'];
    let sent = false;
    const interrupted = await runGpt(args, (line, kill) => {
      if (!sent && line.includes('"type":"run-written"')) {
        sent = true;
        kill('SIGINT');
      }
    });
    expect(interrupted.code).toBe(130);
    const complete = readdirSync(join(out, 'runs')).length;
    expect(complete).toBeLessThan(40);
    expect(interrupted.stderr).toContain(`gpt data: interrupted; ${complete} of 40 runs are complete in ${out}. Run the same command again to resume.`);

    const resumed = await runGpt(args);
    expect(resumed.code).toBe(0);
    const events = resumed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; existing?: number });
    expect(events[0]).toMatchObject({ type: 'started', existing: complete, missing: 40 - complete, workers: 2 });
    expect(events.at(-1)).toMatchObject({ type: 'finished', written: 40 - complete, skipped: complete });
    const dataset = await CheckpointDataset.open(out);
    expect(dataset.runs).toHaveLength(40);
    await dataset.close();
    for (const f of readdirSync(join(reference, 'runs'))) expect(readFileSync(join(out, 'runs', f)).equals(readFileSync(join(reference, 'runs', f))), f).toBe(true);
  }, 120_000);
});

describe('gpt convert', () => {
  it('converts an official LMDB dataset and resumes', async () => {
    const out = join(root, 'converted');
    const io = captureIo();
    await runCli(convertCli, convertMain, ['--from', OFFICIAL_CARTPOLE, '--out', out, '--task', 'cartpole', '--test-runs', '1', '--json'], io);
    expect(io.code).toBeUndefined();
    const dataset = await CheckpointDataset.open(out);
    expect(dataset.manifest.task).toBe('cartpole');
    expect(dataset.manifest.parameterCount).toBe(1250);
    expect(dataset.split.test).toHaveLength(1);
    expect(dataset.runs.length).toBeGreaterThan(0);
    await dataset.close();
    const again = captureIo();
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => lines.push(String(chunk)) > 0);
    try {
      await runCli(convertCli, convertMain, ['--from', OFFICIAL_CARTPOLE, '--out', out, '--task', 'cartpole', '--test-runs', '1', '--json'], again);
    } finally {
      write.mockRestore();
    }
    expect(again.code).toBeUndefined();
    const events = lines.map((l) => JSON.parse(l) as { type: string });
    expect(events.filter((e) => e.type === 'run-exists')).toHaveLength(dataset.runs.length);
    expect(events.filter((e) => e.type === 'run-converted')).toHaveLength(0);

    const bad = captureIo();
    await runCli(convertCli, convertMain, ['--from', OFFICIAL_CARTPOLE, '--out', out, '--task', 'mnist2'], bad);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--task "mnist2" is not one of mnist, cifar10, cartpole/);
  });
});
