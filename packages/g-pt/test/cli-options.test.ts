import { describe, expect, expectTypeOf, it } from 'vitest';
import { CliUsageError, closestFlag, defineCli, formatHelp, parseCli, runCli, type CliIo, type CliParse, type CliSpec } from '../src/cli.js';

const spec = defineCli({
  name: 'pnpm example demo',
  summary: 'A test command.',
  options: {
    steps: { type: 'integer', default: 500, min: 1, description: 'gradient steps' },
    lr: { type: 'number', default: 0.5, description: 'learning rate' },
    data: { type: 'string', placeholder: 'DIR', description: 'a folder' },
    impl: { type: 'string', choices: ['ts', 'wasm'], default: 'ts', description: 'kernels' },
    batchSize: { type: 'integer', min: 1, max: 4096, description: 'batch size' },
    json: { type: 'boolean', description: 'JSON lines' },
  },
});

function values(argv: string[]) {
  const parsed = parseCli(spec, argv);
  if (parsed.help) throw new Error('unexpected help');
  return parsed.values;
}

function usageError(argv: string[], s: CliSpec = spec): CliUsageError {
  try {
    parseCli(s, argv);
  } catch (error) {
    expect(error).toBeInstanceOf(CliUsageError);
    return error as CliUsageError;
  }
  throw new Error(`no error for ${argv.join(' ')}`);
}

describe('parseCli', () => {
  it('fills defaults and converts typed values', () => {
    expect(values([])).toEqual({ steps: 500, lr: 0.5, data: undefined, impl: 'ts', batchSize: undefined, json: false });
    expect(values(['--steps', '10', '--lr=1e-3', '--data', 'x/y', '--impl', 'wasm', '--batch-size', '64', '--json'])).toEqual({
      steps: 10,
      lr: 0.001,
      data: 'x/y',
      impl: 'wasm',
      batchSize: 64,
      json: true,
    });
    expect(values(['--lr=-2']).lr).toBe(-2);
  });

  it('types the values from the spec', () => {
    const v = values([]);
    expectTypeOf(v.steps).toEqualTypeOf<number>();
    expectTypeOf(v.data).toEqualTypeOf<string | undefined>();
    expectTypeOf(v.impl).toEqualTypeOf<'ts' | 'wasm'>();
    expectTypeOf(v.batchSize).toEqualTypeOf<number | undefined>();
    expectTypeOf(v.json).toEqualTypeOf<boolean>();
  });

  it('an unknown option is an error that suggests the close match', () => {
    const error = usageError(['--step', '10']);
    expect(error.message).toBe('unknown option --step (did you mean --steps?)');
    expect(error.suggestion).toBe('--steps');
    expect(error.exitCode).toBe(2);
    expect(usageError(['--batch', '3']).suggestion).toBe('--batch-size');
    expect(usageError(['--jsno']).suggestion).toBe('--json');
    expect(usageError(['--frobnicate']).message).toBe('unknown option --frobnicate');
  });

  it('malformed numbers, integers, bounds and choices are errors naming the option', () => {
    expect(usageError(['--steps', 'abc']).message).toBe('--steps takes an integer, got "abc"');
    expect(usageError(['--steps', '2.5']).message).toBe('--steps takes an integer, got "2.5"');
    expect(usageError(['--steps', '0']).message).toBe('--steps "0" is below the minimum 1');
    expect(usageError(['--lr', '0x10']).message).toBe('--lr takes a number, got "0x10"');
    expect(usageError(['--lr', '']).message).toBe('--lr takes a number, got ""');
    expect(usageError(['--batch-size', '5000']).message).toBe('--batch-size "5000" is above the maximum 4096');
    expect(usageError(['--impl', 'gpu']).message).toBe('--impl "gpu" is not one of ts, wasm');
  });

  it('a missing value, a value on a flag and a stray argument are errors', () => {
    expect(usageError(['--steps']).message).toBe('--steps needs a value');
    expect(usageError(['--steps', '--json']).message).toMatch(/^--steps needs a value \(got the option-like "--json"; write --steps=--json/);
    expect(usageError(['--lr', '-1']).message).toContain('write --lr=-1');
    expect(usageError(['--json=yes']).message).toBe('--json takes no value (got "yes")');
    expect(usageError(['extra']).message).toBe('unexpected argument "extra" (this command takes only --options)');
  });

  it('required options and positionals', () => {
    const withFile = defineCli({
      name: 'convert',
      positionals: { name: 'FILE', description: 'files to convert' },
      options: { out: { type: 'string', required: true, description: 'output folder' } },
    });
    expect(usageError([], withFile).message).toBe('--out is required: output folder');
    const parsed = parseCli(withFile, ['a.pt', '--out', 'o', 'b.pt']) as Extract<CliParse<typeof withFile.options>, { help: false }>;
    expect(parsed.positionals).toEqual(['a.pt', 'b.pt']);
    expect(parsed.values.out).toBe('o');
  });

  it('--help returns the help text, even next to a mistake', () => {
    expect(parseCli(spec, ['--help'])).toEqual({ help: true, text: formatHelp(spec) });
    expect(parseCli(spec, ['--steps', 'abc', '-h']).help).toBe(true);
  });

  it('mistakes in a spec are caught when it is defined', () => {
    expect(() => defineCli({ name: 'x', options: { n: { type: 'integer', default: 1.5, description: '' } } })).toThrow('default 1.5 is not an integer');
    expect(() => defineCli({ name: 'x', options: { help: { type: 'boolean', description: '' } } })).toThrow('--help is built in');
    expect(() => defineCli({ name: 'x', options: { mode: { type: 'string', choices: ['a'], default: 'b', description: '' } } })).toThrow('is not one of a');
  });
});

describe('formatHelp', () => {
  it('lists every option with its description, value name, default and bounds', () => {
    const text = formatHelp(spec);
    expect(text.split('\n').slice(0, 4)).toEqual(['usage: pnpm example demo [options]', '', 'A test command.', '']);
    expect(text).toMatch(/--steps N\s+gradient steps \(default 500; >= 1\)/);
    expect(text).toMatch(/--data DIR\s+a folder\n/);
    expect(text).toMatch(/--impl ts\|wasm\s+kernels \(default ts\)/);
    expect(text).toMatch(/--batch-size N\s+batch size \(1\.\.4096\)/);
    expect(text).toMatch(/--json\s+JSON lines\n/);
    expect(text).toMatch(/-h, --help\s+show this help and exit/);
  });
});

describe('closestFlag', () => {
  it('prefers a unique prefix, then the nearest name within a third of its length', () => {
    const known = ['--steps', '--seed', '--samples', '--hidden'];
    expect(closestFlag('--step', known)).toBe('--steps');
    expect(closestFlag('--sede', known)).toBe('--seed');
    expect(closestFlag('--hiden', known)).toBe('--hidden');
    expect(closestFlag('--s', known)).toBeUndefined();
    expect(closestFlag('--xyz', known)).toBeUndefined();
  });
});

describe('runCli', () => {
  function io(): CliIo & { out: string; err: string; code: number | undefined } {
    const result = {
      out: '',
      err: '',
      code: undefined as number | undefined,
      stdout: (t: string) => void (result.out += t),
      stderr: (t: string) => void (result.err += t),
      setExitCode: (c: number) => void (result.code = c),
    };
    return result;
  }

  it('runs main with the values', async () => {
    const sink = io();
    let seen: unknown;
    await runCli(spec, (v) => void (seen = v.steps), ['--steps', '3'], sink);
    expect(seen).toBe(3);
    expect(sink.code).toBeUndefined();
  });

  it('a usage error prints the problem and a pointer to --help, exit code 2, main not run', async () => {
    const sink = io();
    let ran = false;
    await runCli(spec, () => void (ran = true), ['--steps', 'abc'], sink);
    expect(ran).toBe(false);
    expect(sink.code).toBe(2);
    expect(sink.err).toBe('pnpm example demo: --steps takes an integer, got "abc"\nRun with --help to list the options.\n');
  });

  it('--help prints the help, exit code 0, main not run', async () => {
    const sink = io();
    let ran = false;
    await runCli(spec, () => void (ran = true), ['--help'], sink);
    expect(ran).toBe(false);
    expect(sink.code).toBe(0);
    expect(sink.out).toBe(formatHelp(spec));
  });

  it('a CliUsageError thrown by main is a usage error too (exit code 2)', async () => {
    const sink = io();
    await runCli(spec, () => Promise.reject(new CliUsageError('--data and --json do not go together')), [], sink);
    expect(sink.code).toBe(2);
    expect(sink.err).toBe('pnpm example demo: --data and --json do not go together\nRun with --help to list the options.\n');
  });

  it('an error thrown by main prints its message, exit code 1', async () => {
    const sink = io();
    await runCli(spec, () => Promise.reject(new Error('no data here')), [], sink);
    expect(sink.code).toBe(1);
    expect(sink.err).toBe('no data here\n');
  });
});
