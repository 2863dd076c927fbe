// End-to-end runs of the two examples as a user runs them (a child process with tsx),
// the CIFAR-10 one on a tiny dataset written in the standard binary format.

import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { writeCifarFolder } from './format-writers.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const root = mkdtempSync(join(tmpdir(), 'gpt-nn-examples-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function runExample(name: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--conditions=@gpt/source', '--import', 'tsx', join('examples', name, 'main.ts'), ...args],
      { cwd: repoRoot, timeout: 120_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** The rows of the per-epoch table: [epoch, lr, train loss, test loss, test error %, seconds]. */
function epochRows(stdout: string): number[][] {
  return stdout
    .split('\n')
    .filter((line) => /^\s+\d+\s+\d/.test(line))
    .map((line) => line.trim().split(/\s+/).map(Number));
}

describe('examples', () => {
  it('cifar-cnn trains end to end on a tiny CIFAR-10 folder and frees every tensor', async () => {
    const dir = join(root, 'cifar');
    writeCifarFolder(dir, 40);
    const { code, stdout, stderr } = await runExample('cifar-cnn', ['--data', dir, '--epochs', '2', '--batch-size', '32']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const rows = epochRows(stdout);
    expect(rows.map((r) => r[0])).toEqual([1, 2]);
    // Per-epoch cosine over 2 epochs: lr 0.1 then 0.05.
    expect(rows.map((r) => r[1])).toEqual([0.1, 0.05]);
    // The test error is counted over the whole test batch (40 images), so it is a whole
    // number of wrong images: a multiple of 2.5% (a count divided by the wrong total, or
    // a fraction printed as a percentage, would not be), and the closing line reports
    // its complement.
    for (const r of rows) {
      expect(Number.isFinite(r[3])).toBe(true);
      const wrong = (r[4]! / 100) * 40;
      expect(wrong, `test error ${r[4]}% of 40 images`).toBeCloseTo(Math.round(wrong), 9);
      expect(Math.round(wrong)).toBeGreaterThanOrEqual(0);
      expect(Math.round(wrong)).toBeLessThanOrEqual(40);
    }
    expect(stdout).toContain(`final test accuracy ${(100 - rows[1]![4]!).toFixed(2)}%`);
    expect(stdout).toContain('live tensors 0');
  });

  it('cifar-cnn without --data, or with a folder lacking batches, exits with a clear message', async () => {
    const [missing, empty] = await Promise.all([runExample('cifar-cnn', []), runExample('cifar-cnn', ['--data', join(root, 'nothing-here')])]);
    expect(missing.code).toBe(2); // a usage error
    expect(missing.stderr).toContain('--data is required');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain(`CIFAR-10: folder ${join(root, 'nothing-here')} does not exist`);
  });

  it('mnist-mlp learns the bundled digits: under 20% test error after one epoch', async () => {
    const { code, stdout, stderr } = await runExample('mnist-mlp', ['--epochs', '1']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const [row] = epochRows(stdout);
    expect(row![0]).toBe(1);
    expect(row![4]).toBeLessThan(20);
    expect(stdout).toContain('live tensors 0');
  });
});
