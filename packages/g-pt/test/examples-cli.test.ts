// The examples as a user starts them (a child process through tsx, as `pnpm example` does):
// each one's --help exits 0 listing its options, and a malformed number exits 2 naming the
// option instead of running with NaN. The runner itself lists the examples on an unknown name.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLES = readdirSync(join(ROOT, 'examples'), { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .map((d) => d.name);

function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, timeout: 60_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

const example = (name: string, args: string[]) => run(['--conditions=@gpt/source', '--import', 'tsx', join('examples', name, 'main.ts'), ...args]);

describe('example command lines', () => {
  it.each(EXAMPLES)('%s --help prints its options and exits 0', async (name) => {
    const { code, stdout, stderr } = await example(name, ['--help']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^usage: pnpm example ${name} \\[options\\]\\n`));
    expect(stdout).toContain('-h, --help');
  });

  it('a malformed number or an unknown option exits 2 with the problem, before any work', async () => {
    const [bad, typo] = await Promise.all([example('two-moons', ['--steps', 'abc']), example('two-moons', ['--step', '10'])]);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe('');
    expect(bad.stderr).toBe('pnpm example two-moons: --steps takes an integer, got "abc"\nRun with --help to list the options.\n');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('unknown option --step (did you mean --steps?)');
  });

  it('pnpm example with an unknown name exits 2 listing the examples', async () => {
    const { code, stderr } = await run([join('scripts', 'run-example.mjs'), 'no-such-example']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown example "no-such-example"');
    expect(stderr).toContain(`examples: ${[...EXAMPLES].sort().join(', ')}`);
  });
});
