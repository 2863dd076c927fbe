// matmul: plain, non-square, K not a multiple of the kernel's unroll, batched
// with broadcast batch dims, 1-D operands, transposed operands, and empty M/N/K;
// and with a bias row (Linear's), through the stacked, batched and empty-K paths.

import * as T from '@gpt/tensor';
import { binary } from '../../reference/elementwise.js';
import { matmul } from '../../reference/matmul.js';
import { opCase, shapes, type OpCase } from '../case.js';
import { f32 } from '../inputs.js';

interface MatmulConfig {
  a: number[];
  b: number[];
  transA?: boolean;
  transB?: boolean;
  grad: boolean;
  /** Adds a bias input [N] (`{ bias }`). */
  bias?: boolean;
}

const CONFIGS: MatmulConfig[] = [
  { a: [3, 4], b: [4, 5], grad: true },
  { a: [1, 1], b: [1, 1], grad: true },
  { a: [5, 7], b: [7, 3], grad: true },
  { a: [33, 65], b: [65, 17], grad: false },
  { a: [2, 3, 4], b: [2, 4, 5], grad: true },
  { a: [2, 1, 3, 4], b: [3, 4, 2], grad: true },
  { a: [3, 4], b: [2, 4, 5], grad: true },
  { a: [2, 3, 4], b: [4, 2], grad: true },
  { a: [4], b: [4, 3], grad: true },
  { a: [3, 4], b: [4], grad: true },
  { a: [4], b: [4], grad: true },
  { a: [2, 3, 4], b: [4], grad: true },
  { a: [4], b: [2, 4, 3], grad: true },
  { a: [4, 3], b: [4, 5], transA: true, grad: true },
  { a: [3, 4], b: [5, 4], transB: true, grad: true },
  { a: [4, 3], b: [5, 4], transA: true, transB: true, grad: true },
  { a: [2, 4, 3], b: [1, 5, 4], transA: true, transB: true, grad: true },
  { a: [3, 2, 4], b: [2, 4], transA: true, grad: true },
  { a: [3, 0], b: [0, 4], grad: true },
  { a: [0, 4], b: [4, 3], grad: true },
  { a: [3, 4], b: [4, 0], grad: true },
  { a: [0, 3, 4], b: [4, 2], grad: true },
  { a: [3, 4], b: [4, 5], bias: true, grad: true },
  { a: [2, 3, 4], b: [4, 5], bias: true, grad: true },
  { a: [2, 3, 4], b: [2, 4, 5], bias: true, grad: true },
  { a: [3, 4], b: [5, 4], transB: true, bias: true, grad: true },
  { a: [2, 4, 3], b: [1, 5, 4], transA: true, transB: true, bias: true, grad: true },
  { a: [33, 65], b: [17, 65], transB: true, bias: true, grad: false },
  { a: [3, 0], b: [0, 4], bias: true, grad: true },
  { a: [4], b: [4, 3], bias: true, grad: true },
];

function label({ a, b, transA, transB, bias }: MatmulConfig): string {
  const flags = [transA ? 'transA' : '', transB ? 'transB' : '', bias ? 'bias' : ''].filter(Boolean).join(' ');
  return `${shapes(a, b)}${flags ? ` ${flags}` : ''}`;
}

export const MATMUL_CASES: OpCase[] = CONFIGS.map((config) => {
  const options = { transA: config.transA ?? false, transB: config.transB ?? false };
  const n = config.transB ? config.b.at(-2)! : config.b.length === 1 ? 1 : config.b.at(-1)!;
  if (config.bias) {
    return opCase({
      subject: 'matmul',
      name: label(config),
      inputs: [f32(config.a), f32(config.b), f32([n])],
      run: (a, b, bias) => T.matmul(a, b, { ...options, bias }),
      reference: (a, b, bias) => binary('add', matmul(a, b, options), bias),
      tolerance: 'accumulation',
      gradient: config.grad,
    });
  }
  return opCase({
    subject: 'matmul',
    name: label(config),
    inputs: [f32(config.a), f32(config.b)],
    run: (a, b) => T.matmul(a, b, options),
    reference: (a, b) => matmul(a, b, options),
    tolerance: 'accumulation',
    gradient: config.grad,
  });
});
