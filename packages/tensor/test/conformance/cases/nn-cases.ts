// Neural-network ops: softmax/logSoftmax on every axis, layerNorm (with and
// without affine), conv2d and its two backprop kernels, average pooling and its
// backprop kernel, global average pooling, the losses and seeded dropout.

import * as T from '@gpt/tensor';
import { runOp } from '@gpt/tensor/internal';
import * as R from '../../reference/nn.js';
import { mean } from '../../reference/reduce.js';
import { keyOfSeed, uniform as philoxUniform } from '../../reference/philox.js';
import { mapBroadcast } from '../../reference/nd-array.js';
import { opCase, shapes, type OpCase } from '../case.js';
import { f32, fixed, i32, ints, uniform } from '../inputs.js';

function softmaxCases(): OpCase[] {
  const cases: OpCase[] = [];
  for (const subject of ['softmax', 'logSoftmax'] as const) {
    const reference = subject === 'softmax' ? R.softmax : R.logSoftmax;
    for (const axis of [0, 1, 2, -1, -3]) {
      cases.push(opCase({ subject, name: `[2, 3, 4] axis ${axis}`, inputs: [f32([2, 3, 4])], run: (x) => T[subject](x, axis), reference: (x) => reference(x, axis), tolerance: 'accumulation', gradient: true }));
    }
    cases.push(
      opCase({ subject, name: '[5] default axis', inputs: [f32([5])], run: (x) => T[subject](x), reference: (x) => reference(x), tolerance: 'accumulation', gradient: true }),
      opCase({ subject, name: '[3, 1] axis 1 (single class)', inputs: [f32([3, 1])], run: (x) => T[subject](x, 1), reference: (x) => reference(x, 1), tolerance: 'accumulation', gradient: true }),
      // Rows near 1000 overflow exp() unless the row maximum is subtracted first.
      opCase({ subject, name: 'large logits [3, 4] axis 1', inputs: [f32([3, 4], uniform(990, 1010))], run: (x) => T[subject](x, 1), reference: (x) => reference(x, 1), tolerance: 'accumulation', gradient: true }),
      opCase({ subject, name: 'with -inf entries [2, 3]', inputs: [f32([2, 3], fixed([0, -Infinity, 1, -Infinity, 2, 0.5]))], run: (x) => T[subject](x, 1), reference: (x) => reference(x, 1), tolerance: 'accumulation' }),
      opCase({ subject, name: 'empty rows [0, 4] axis 1', inputs: [f32([0, 4])], run: (x) => T[subject](x, 1), reference: (x) => reference(x, 1), tolerance: 'exact' }),
    );
  }
  return cases;
}

function layerNormCases(): OpCase[] {
  return [
    opCase({ subject: 'layerNorm', name: '[2, 5] no affine', inputs: [f32([2, 5])], run: (x) => T.layerNorm(x), reference: (x) => R.layerNorm(x), tolerance: 'accumulation', gradient: true }),
    opCase({ subject: 'layerNorm', name: '[7] no affine', inputs: [f32([7])], run: (x) => T.layerNorm(x), reference: (x) => R.layerNorm(x), tolerance: 'accumulation', gradient: true }),
    opCase({
      subject: 'layerNorm',
      name: '[3, 2, 6] weight and bias',
      inputs: [f32([3, 2, 6]), f32([6]), f32([6])],
      run: (x, w, b) => T.layerNorm(x, w, b),
      reference: (x, w, b) => R.layerNorm(x, w, b),
      tolerance: 'accumulation',
      gradient: true,
    }),
    opCase({ subject: 'layerNorm', name: '[4, 3] weight only', inputs: [f32([4, 3]), f32([3])], run: (x, w) => T.layerNorm(x, w), reference: (x, w) => R.layerNorm(x, w), tolerance: 'accumulation', gradient: true }),
    opCase({ subject: 'layerNorm', name: '[4, 3] bias only', inputs: [f32([4, 3]), f32([3])], run: (x, b) => T.layerNorm(x, null, b), reference: (x, b) => R.layerNorm(x, null, b), tolerance: 'accumulation', gradient: true }),
    opCase({ subject: 'layerNorm', name: '[3, 4] eps 0.1', inputs: [f32([3, 4], uniform(-0.3, 0.3))], run: (x) => T.layerNorm(x, null, null, 0.1), reference: (x) => R.layerNorm(x, null, null, 0.1), tolerance: 'accumulation', gradient: true }),
    opCase({ subject: 'layerNorm', name: '[2, 1] single feature gives zeros', inputs: [f32([2, 1])], run: (x) => T.layerNorm(x), reference: (x) => R.layerNorm(x), tolerance: 'accumulation' }),
    opCase({ subject: 'layerNorm', name: 'offset rows (mean 500) [2, 8]', inputs: [f32([2, 8], uniform(499, 501))], run: (x) => T.layerNorm(x), reference: (x) => R.layerNorm(x), tolerance: 'accumulation' }),
    ...[[3, 8], [2, 3, 256], [5, 1], [0, 4]].map((shape) =>
      opCase({ subject: 'layerNormBackward', name: `float32 ${shapes(shape)}`, inputs: [f32(shape), f32(shape)], run: (g, x) => runOp('layerNormBackward', [g, x], { eps: 1e-5 }), reference: (g, x) => R.layerNormBackward(g, x), tolerance: 'accumulation' }),
    ),
    opCase({ subject: 'layerNormBackward', name: 'offset rows (mean 500) [2, 8], eps 0.1', inputs: [f32([2, 8]), f32([2, 8], uniform(499, 501))], run: (g, x) => runOp('layerNormBackward', [g, x], { eps: 0.1 }), reference: (g, x) => R.layerNormBackward(g, x, 0.1), tolerance: 'accumulation' }),
  ];
}

interface ConvConfig {
  x: [number, number, number, number];
  w: [number, number, number, number];
  stride: [number, number];
  padding: [number, number];
  bias: boolean;
  grad: boolean;
}

const CONVS: ConvConfig[] = [
  { x: [2, 3, 5, 5], w: [4, 3, 3, 3], stride: [1, 1], padding: [0, 0], bias: false, grad: true },
  { x: [2, 3, 5, 5], w: [4, 3, 3, 3], stride: [1, 1], padding: [1, 1], bias: true, grad: true },
  { x: [1, 2, 6, 7], w: [3, 2, 3, 3], stride: [2, 2], padding: [1, 1], bias: true, grad: true },
  { x: [2, 2, 6, 4], w: [3, 2, 2, 3], stride: [2, 1], padding: [1, 0], bias: false, grad: true },
  { x: [2, 3, 4, 4], w: [5, 3, 1, 1], stride: [1, 1], padding: [0, 0], bias: true, grad: true },
  { x: [1, 1, 3, 3], w: [1, 1, 3, 3], stride: [1, 1], padding: [0, 0], bias: false, grad: true },
  { x: [1, 2, 7, 7], w: [2, 2, 3, 3], stride: [3, 3], padding: [2, 2], bias: true, grad: false },
  { x: [2, 8, 9, 9], w: [6, 8, 3, 3], stride: [1, 1], padding: [1, 1], bias: true, grad: false },
  { x: [0, 3, 5, 5], w: [4, 3, 3, 3], stride: [1, 1], padding: [0, 0], bias: true, grad: true },
];

const convLabel = (c: ConvConfig): string => `x ${shapes(c.x)} w ${shapes(c.w)} stride ${c.stride} padding ${c.padding}${c.bias ? ' bias' : ''}`;
const convOut = (c: ConvConfig): number[] => [
  c.x[0],
  c.w[0],
  Math.floor((c.x[2] + 2 * c.padding[0] - c.w[2]) / c.stride[0]) + 1,
  Math.floor((c.x[3] + 2 * c.padding[1] - c.w[3]) / c.stride[1]) + 1,
];

function convCases(): OpCase[] {
  const cases: OpCase[] = [];
  for (const c of CONVS) {
    const options = { stride: c.stride, padding: c.padding };
    cases.push(
      opCase({
        subject: 'conv2d',
        name: convLabel(c),
        inputs: c.bias ? [f32(c.x), f32(c.w), f32([c.w[0]])] : [f32(c.x), f32(c.w)],
        run: (x, w, b) => T.conv2d(x, w, b ?? null, options),
        reference: (x, w, b) => R.conv2d(x, w, b ?? null, options),
        tolerance: 'accumulation',
        gradient: c.grad,
      }),
    );
    if (c.grad || c.x[0] === 0) continue;
    // The backprop kernels are primitives of their own (used by conv2d's gradient); check them directly too.
    const attrs = { stride: c.stride, padding: c.padding };
    cases.push(
      opCase({
        subject: 'conv2dBackpropInput',
        name: convLabel(c),
        inputs: [f32(convOut(c)), f32(c.w)],
        run: (dy, w) => runOp('conv2dBackpropInput', [dy, w], { ...attrs, inputShape: c.x }),
        reference: (dy, w) => R.conv2dBackpropInput(dy, w, c.x, options),
        tolerance: 'accumulation',
      }),
      opCase({
        subject: 'conv2dBackpropFilter',
        name: convLabel(c),
        inputs: [f32(c.x), f32(convOut(c))],
        run: (x, dy) => runOp('conv2dBackpropFilter', [x, dy], { ...attrs, filterShape: c.w }),
        reference: (x, dy) => R.conv2dBackpropFilter(x, dy, c.w, options),
        tolerance: 'accumulation',
      }),
    );
  }
  const small = CONVS[2]!;
  cases.push(
    opCase({
      subject: 'conv2dBackpropInput',
      name: `${convLabel(small)} (strided, padded)`,
      inputs: [f32(convOut(small)), f32(small.w)],
      run: (dy, w) => runOp('conv2dBackpropInput', [dy, w], { stride: small.stride, padding: small.padding, inputShape: small.x }),
      reference: (dy, w) => R.conv2dBackpropInput(dy, w, small.x, small),
      tolerance: 'accumulation',
    }),
    opCase({
      subject: 'conv2dBackpropFilter',
      name: `${convLabel(small)} (strided, padded)`,
      inputs: [f32(small.x), f32(convOut(small))],
      run: (x, dy) => runOp('conv2dBackpropFilter', [x, dy], { stride: small.stride, padding: small.padding, filterShape: small.w }),
      reference: (x, dy) => R.conv2dBackpropFilter(x, dy, small.w, small),
      tolerance: 'accumulation',
    }),
  );
  return cases;
}

interface PoolConfig {
  x: [number, number, number, number];
  kernel: [number, number];
  stride?: [number, number];
  padding?: [number, number];
  grad: boolean;
}

const POOLS: PoolConfig[] = [
  { x: [2, 3, 4, 4], kernel: [2, 2], grad: true },
  { x: [1, 2, 5, 5], kernel: [3, 3], stride: [1, 1], padding: [1, 1], grad: true },
  { x: [2, 1, 5, 7], kernel: [2, 3], stride: [1, 2], grad: true },
  { x: [1, 2, 5, 5], kernel: [2, 2], grad: true },
  { x: [1, 1, 6, 6], kernel: [4, 4], stride: [2, 2], padding: [2, 2], grad: false },
  { x: [2, 3, 8, 8], kernel: [2, 2], grad: false },
];

const poolLabel = (p: PoolConfig): string =>
  `x ${shapes(p.x)} kernel ${p.kernel}${p.stride ? ` stride ${p.stride}` : ''}${p.padding ? ` padding ${p.padding}` : ''}`;

function poolCases(): OpCase[] {
  const cases: OpCase[] = [];
  for (const p of POOLS) {
    const options = { ...(p.stride ? { stride: p.stride } : {}), ...(p.padding ? { padding: p.padding } : {}) };
    cases.push(
      opCase({
        subject: 'avgPool2d',
        name: poolLabel(p),
        inputs: [f32(p.x)],
        run: (x) => T.avgPool2d(x, p.kernel, options),
        reference: (x) => R.avgPool2d(x, p.kernel, options),
        tolerance: 'accumulation',
        gradient: p.grad,
      }),
    );
    if (p.grad) continue;
    const stride = p.stride ?? p.kernel;
    const padding = p.padding ?? [0, 0];
    const outShape = [p.x[0], p.x[1], Math.floor((p.x[2] + 2 * padding[0] - p.kernel[0]) / stride[0]) + 1, Math.floor((p.x[3] + 2 * padding[1] - p.kernel[1]) / stride[1]) + 1];
    cases.push(
      opCase({
        subject: 'avgPool2dBackprop',
        name: poolLabel(p),
        inputs: [f32(outShape)],
        run: (dy) => runOp('avgPool2dBackprop', [dy], { kernel: p.kernel, stride, padding, inputShape: p.x }),
        reference: (dy) => R.avgPool2dBackprop(dy, p.x, p.kernel, { stride, padding }),
        tolerance: 'accumulation',
      }),
    );
  }
  for (const shape of [[2, 3, 4, 5], [1, 2, 1, 1], [2, 2, 3, 3]] as [number, number, number, number][]) {
    cases.push(
      opCase({ subject: 'globalAvgPool2d', name: shapes(shape), inputs: [f32(shape)], run: (x) => T.globalAvgPool2d(x), reference: (x) => mean(x, [2, 3]), tolerance: 'accumulation', gradient: true }),
    );
  }
  return cases;
}

function lossCases(): OpCase[] {
  const cases: OpCase[] = [];
  for (const reduction of ['mean', 'sum', 'none'] as const) {
    cases.push(
      opCase({
        subject: 'crossEntropy',
        name: `logits [4, 5] reduction ${reduction}`,
        inputs: [f32([4, 5], uniform(-3, 3)), i32([4], ints(0, 5))],
        run: (logits, labels) => T.crossEntropy(logits, labels!, reduction),
        reference: (logits, labels) => R.crossEntropy(logits, labels!, reduction),
        tolerance: 'accumulation',
        gradient: true,
      }),
      opCase({
        subject: 'nllLoss',
        name: `log-probabilities [3, 4] reduction ${reduction}`,
        inputs: [f32([3, 4], uniform(-4, 0)), i32([3], ints(0, 4))],
        run: (logProbs, labels) => T.nllLoss(logProbs, labels!, reduction),
        reference: (logProbs, labels) => R.nllLoss(logProbs, labels!, reduction),
        tolerance: 'accumulation',
        gradient: true,
      }),
      opCase({
        subject: 'mse',
        name: `[3, 4] reduction ${reduction}`,
        inputs: [f32([3, 4]), f32([3, 4])],
        run: (p, t) => T.mse(p, t!, reduction),
        reference: (p, t) => R.mse(p, t!, reduction),
        tolerance: 'accumulation',
        gradient: true,
      }),
    );
  }
  cases.push(
    opCase({
      subject: 'crossEntropy',
      name: 'large logits [3, 6] (stability)',
      inputs: [f32([3, 6], uniform(500, 600)), i32([3], ints(0, 6))],
      run: (logits, labels) => T.crossEntropy(logits, labels!),
      reference: (logits, labels) => R.crossEntropy(logits, labels!),
      tolerance: 'accumulation',
      gradient: true,
    }),
    opCase({
      subject: 'crossEntropy',
      name: 'one row, one class [1, 1]',
      inputs: [f32([1, 1]), i32([1], ints(0, 1))],
      run: (logits, labels) => T.crossEntropy(logits, labels!),
      reference: (logits, labels) => R.crossEntropy(logits, labels!),
      tolerance: 'accumulation',
      gradient: true,
    }),
    opCase({ subject: 'mse', name: '0-d', inputs: [f32([]), f32([])], run: (p, t) => T.mse(p, t!), reference: (p, t) => R.mse(p, t!), tolerance: 'accumulation', gradient: true }),
  );
  return cases;
}

function dropoutCases(): OpCase[] {
  const cases: OpCase[] = [];
  // With a seed, the keep mask is u >= p for the seed's Philox uniforms (counter offset 0),
  // so the reference rebuilds it with its own Philox.
  for (const [shape, p, seed] of [[[4, 5], 0.3, 7], [[37], 0.5, 123456789], [[2, 3, 4], 0.1, 2 ** 40 + 5]] as [number[], number, number][]) {
    cases.push(
      opCase({
        subject: 'dropout',
        name: `${shapes(shape)} p ${p} seed ${seed}`,
        inputs: [f32(shape)],
        run: (x) => T.dropout(x, p, { seed }),
        reference: (x) => {
          const keep = mapBroadcast('float32', [philoxUniform(shape, keyOfSeed(seed))], (u) => (u >= p ? 1 : 0));
          return R.dropout(x, keep, p);
        },
        tolerance: 'rounding',
        gradient: true,
      }),
    );
  }
  cases.push(
    opCase({ subject: 'dropout', name: 'training false is the identity', inputs: [f32([3, 4])], run: (x) => T.dropout(x, 0.5, { training: false }), reference: (x) => x, tolerance: 'exact', gradient: true }),
    opCase({ subject: 'dropout', name: 'p 0 is the identity', inputs: [f32([6])], run: (x) => T.dropout(x, 0, { seed: 1 }), reference: (x) => x, tolerance: 'exact', gradient: true }),
  );
  return cases;
}

export const NN_CASES: OpCase[] = [...softmaxCases(), ...layerNormCases(), ...convCases(), ...poolCases(), ...lossCases(), ...dropoutCases()];
