// Attention: the fused `attention` op (forced with fused: true, so every device runs its own
// kernel: the TypeScript loops on the CPU, the WGSL kernel on WebGPU), its backward kernel per
// input, and the public scaledDotProductAttention as each device picks it (the composite on
// the CPU, the fused op on WebGPU), with a mask and with broadcast batch dims (composite).

import * as T from '@gpt/tensor';
import { runOp } from '@gpt/tensor/internal';
import { attention, attentionGradient } from '../../reference/attention.js';
import { opCase, shapes, type OpCase } from '../case.js';
import { bool, f32, fixed, uniform } from '../inputs.js';

interface Geometry {
  /** Batch dims, shared by q, k and v. */
  batch: number[];
  tq: number;
  tk: number;
  e: number;
  ev: number;
  grad: boolean;
}

// Small shapes with gradients; G.pt's (18 and 26 tokens, head dims 32..128) forward only.
const GEOMETRIES: Geometry[] = [
  { batch: [2, 3], tq: 5, tk: 7, e: 4, ev: 6, grad: true },
  { batch: [], tq: 3, tk: 4, e: 2, ev: 3, grad: true },
  { batch: [1], tq: 1, tk: 1, e: 3, ev: 2, grad: true },
  // Head dims that are multiples of 4: WebGPU's vec4 kernels.
  { batch: [2], tq: 5, tk: 6, e: 4, ev: 8, grad: true },
  { batch: [2, 4], tq: 18, tk: 18, e: 64, ev: 64, grad: false },
  { batch: [1, 2], tq: 26, tk: 26, e: 128, ev: 128, grad: false },
  { batch: [3], tq: 32, tk: 32, e: 8, ev: 8, grad: false },
  { batch: [0, 2], tq: 4, tk: 4, e: 3, ev: 3, grad: false },
];

const qkvShapes = (g: Geometry): [number[], number[], number[]] => [
  [...g.batch, g.tq, g.e],
  [...g.batch, g.tk, g.e],
  [...g.batch, g.tk, g.ev],
];

function fusedCases(): OpCase[] {
  const cases: OpCase[] = [];
  for (const geometry of GEOMETRIES) {
    const [qs, ks, vs] = qkvShapes(geometry);
    const scale = 1 / Math.sqrt(geometry.e);
    cases.push(
      opCase({
        subject: 'attention',
        name: shapes(qs, ks, vs),
        inputs: [f32(qs), f32(ks), f32(vs)],
        run: (q, k, v) => T.scaledDotProductAttention(q, k!, v!, { fused: true }),
        reference: (q, k, v) => attention(q, k!, v!, scale),
        tolerance: 'accumulation',
        gradient: geometry.grad,
      }),
    );
    if (!geometry.grad) continue;
    for (const wrt of ['q', 'k', 'v'] as const) {
      cases.push(
        opCase({
          subject: 'attentionBackward',
          name: `d${wrt} ${shapes(qs, ks, vs)}`,
          inputs: [f32([...geometry.batch, geometry.tq, geometry.ev]), f32(qs), f32(ks), f32(vs)],
          run: (g, q, k, v) => runOp('attentionBackward', [g, q!, k!, v!], { scale, wrt }),
          reference: (g, q, k, v) => attentionGradient(g, q!, k!, v!, scale, wrt),
          tolerance: 'accumulation',
        }),
      );
    }
  }
  cases.push(
    // Scores near ±40 overflow exp() unless each row's maximum is subtracted first.
    opCase({
      subject: 'attention',
      name: 'large scores [2, 6, 3] scale 4',
      inputs: [f32([2, 6, 3], uniform(-2, 2)), f32([2, 6, 3], uniform(-2, 2)), f32([2, 6, 2])],
      run: (q, k, v) => T.scaledDotProductAttention(q, k!, v!, { scale: 4, fused: true }),
      reference: (q, k, v) => attention(q, k!, v!, 4),
      tolerance: 'accumulation',
      gradient: true,
    }),
  );
  return cases;
}

function publicCases(): OpCase[] {
  const triangle = fixed(Array.from({ length: 5 * 7 }, (_, n) => Number(n % 7 <= Math.floor(n / 7) + 1)));
  return [
    opCase({
      subject: 'scaledDotProductAttention',
      name: 'as the device picks it [2, 18, 8]',
      inputs: [f32([2, 18, 8]), f32([2, 18, 8]), f32([2, 18, 8])],
      run: (q, k, v) => T.scaledDotProductAttention(q, k!, v!),
      reference: (q, k, v) => attention(q, k!, v!, 1 / Math.sqrt(8)),
      tolerance: 'accumulation',
      gradient: true,
    }),
    opCase({
      subject: 'scaledDotProductAttention',
      name: 'composite [2, 5, 4] x [2, 7, 4] x [2, 7, 3]',
      inputs: [f32([2, 5, 4]), f32([2, 7, 4]), f32([2, 7, 3])],
      run: (q, k, v) => T.scaledDotProductAttention(q, k!, v!, { fused: false }),
      reference: (q, k, v) => attention(q, k!, v!, 0.5),
      tolerance: 'accumulation',
      gradient: true,
    }),
    opCase({
      subject: 'scaledDotProductAttention',
      name: 'mask [5, 7] (each query sees a different subset)',
      inputs: [f32([2, 5, 4]), f32([2, 7, 4]), f32([2, 7, 3]), bool([5, 7], triangle)],
      run: (q, k, v, mask) => T.scaledDotProductAttention(q, k!, v!, { mask }),
      reference: (q, k, v, mask) => attention(q, k!, v!, 0.5, mask),
      tolerance: 'accumulation',
      gradient: true,
    }),
  ];
}

export const ATTENTION_CASES: OpCase[] = [...fusedCases(), ...publicCases()];
