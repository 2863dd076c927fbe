// matmul: plain, non-square, K not a multiple of the kernel's unroll, batched
// with broadcast batch dims, 1-D operands, transposed operands, and empty M/N/K.

import * as T from '@gpt/tensor';
import { matmul } from '../../reference/matmul.js';
import { opCase, shapes, type OpCase } from '../case.js';
import { f32 } from '../inputs.js';

interface MatmulConfig {
  a: number[];
  b: number[];
  transA?: boolean;
  transB?: boolean;
  grad: boolean;
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
];

function label({ a, b, transA, transB }: MatmulConfig): string {
  const flags = [transA ? 'transA' : '', transB ? 'transB' : ''].filter(Boolean).join(' ');
  return `${shapes(a, b)}${flags ? ` ${flags}` : ''}`;
}

export const MATMUL_CASES: OpCase[] = CONFIGS.map((config) => {
  const options = { transA: config.transA ?? false, transB: config.transB ?? false };
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
