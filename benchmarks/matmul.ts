// `pnpm bench matmul [--json] [--sizes 128,512,1024] [--impl NAME,...]`: float32 matmul GFLOP/s for
// square sizes, and conv2d milliseconds for a CIFAR-sized batch, for every
// implementation in benchmarks/matmul/*.ts (each file is one column). An
// implementation that cannot run here reports why instead of a number.

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CliUsageError, defineCli, describeRuntime, type CliValues } from '@gpt/g-pt/cli';
import { chooseColumns, loadColumns, type Column } from './helpers/columns.js';
import { JSON_OPTION, medianSeconds, report, type Row } from './util.js';

export interface ConvShape {
  n: number;
  c: number;
  h: number;
  w: number;
  o: number;
}

/** One column of the table. Files in benchmarks/matmul/ default-export one of these (or an array). */
export interface MatmulImpl extends Column {
  /** Returns a function that computes one [n,n]x[n,n] product (awaiting completion). */
  prepareMatmul?(m: number, n: number, k: number): Promise<() => Promise<unknown> | unknown>;
  /** Optional: one conv2d forward on x [N,C,H,W] with w [O,C,3,3]. */
  prepareConv2d?(shape: ConvShape): Promise<() => Promise<unknown> | unknown>;
  /** Instead of prepare*: for work timed elsewhere (another process), the median seconds of `reps` runs. */
  measureMatmul?(m: number, n: number, k: number, reps: number): Promise<number>;
  measureConv2d?(shape: ConvShape, reps: number): Promise<number>;
  teardown?(): Promise<void>;
}

export const cli = defineCli({
  name: 'pnpm bench matmul',
  summary: 'float32 matmul GFLOP/s for square sizes and conv2d ms for a CIFAR-sized batch, one column per benchmarks/matmul/*.ts.',
  options: {
    sizes: { type: 'string', default: '128,512,1024', placeholder: 'N,N,...', description: 'square matmul sizes, comma-separated' },
    impl: { type: 'string', placeholder: 'NAME,...', description: 'only these columns (default: all)' },
    json: JSON_OPTION,
  },
});

function parseSizes(text: string): number[] {
  const sizes = text.split(',').map(Number);
  if (!sizes.every((n) => Number.isSafeInteger(n) && n >= 1)) throw new CliUsageError(`--sizes takes positive integers separated by commas, got "${text}"`, '--sizes');
  return sizes;
}

export async function main(options: CliValues<typeof cli.options>): Promise<void> {
  const sizes = parseSizes(options.sizes);
  const impls = chooseColumns(await loadColumns<MatmulImpl>(join(dirname(fileURLToPath(import.meta.url)), 'matmul')), options.impl, 'matmul');
  console.error(`matmul: ${describeRuntime()}`);
  const rows: Row[] = [];
  // A CIFAR-10 training batch through the paper's first conv layer (3->16, k3).
  const conv = { n: 128, c: 3, h: 32, w: 32, o: 16 };
  for (const impl of impls) {
    const skipped = await impl.setup();
    if (skipped) {
      rows.push({ bench: 'matmul', impl: impl.name, m: null, n: null, k: null, gflops: null, note: skipped });
      continue;
    }
    for (const n of sizes) {
      const reps = n >= 1024 ? 3 : 7;
      const seconds = impl.measureMatmul ? await impl.measureMatmul(n, n, n, reps) : await medianSeconds(await impl.prepareMatmul!(n, n, n), reps, 1);
      rows.push({ bench: 'matmul', impl: impl.name, m: n, n, k: n, gflops: (2 * n ** 3) / seconds / 1e9 });
    }
    if (impl.prepareConv2d || impl.measureConv2d) {
      const seconds = impl.measureConv2d ? await impl.measureConv2d(conv, 5) : await medianSeconds(await impl.prepareConv2d!(conv), 5, 1);
      rows.push({ bench: 'conv2d', impl: impl.name, ...conv, ms: seconds * 1000 });
    }
    await impl.teardown?.();
  }
  report(rows, options.json);
}
