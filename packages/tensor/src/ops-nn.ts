// Neural-network functions built on the primitives: normalization, convolution
// and pooling with their usual options, dropout, and the standard losses.

import { runOp } from './engine.js';
import { shapeToString, sameShape } from './shape.js';
import type { Tensor } from './tensor.js';
import * as M from './ops-math.js';
import { gather, reshape, unsqueeze } from './ops-shape.js';
import { rand, type RandomOptions } from './random.js';

type Pair = number | readonly [number, number];

function pair(op: string, name: string, v: Pair): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((x) => Number.isInteger(x))) throw new Error(`${op}: ${name} must be integers, got ${String(v)}`);
  return p;
}

/** Layer normalization over the last axis, with optional affine weight and bias of shape [D]. */
export function layerNorm(x: Tensor, weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const d = x.shape.at(-1);
  for (const [name, p] of [['weight', weight], ['bias', bias]] as const) {
    if (p && (p.rank !== 1 || p.shape[0] !== d)) {
      throw new Error(`layerNorm: ${name} has shape ${shapeToString(p.shape)}, expected [${d}] for input ${shapeToString(x.shape)}`);
    }
  }
  const normalized = runOp('layerNorm', [x], { eps }); // [..., D]
  if (!weight && !bias) return normalized;
  if (weight && bias) {
    // One pass for the affine instead of a mul and an add over [..., D].
    const affine = M.mulAdd(normalized, weight, bias); // [..., D]
    normalized.dispose();
    return affine;
  }
  const scaled = weight ? M.mul(normalized, weight) : normalized; // [..., D]
  const shifted = bias ? M.add(scaled, bias) : scaled; // [..., D]
  if (scaled !== normalized) normalized.dispose();
  if (shifted !== scaled) scaled.dispose();
  return shifted;
}

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
}

/** 2-D convolution, NCHW input, [O, C, KH, KW] weight, optional bias [O] (PyTorch's conv2d). */
export function conv2d(x: Tensor, weight: Tensor, bias?: Tensor | null, options: Conv2dOptions = {}): Tensor {
  const stride = pair('conv2d', 'stride', options.stride ?? 1);
  const padding = pair('conv2d', 'padding', options.padding ?? 0);
  const y = runOp('conv2d', [x, weight], { stride, padding }); // [N, O, OH, OW]
  if (!bias) return y;
  if (bias.rank !== 1 || bias.shape[0] !== weight.shape[0]) {
    y.dispose();
    throw new Error(`conv2d: bias has shape ${shapeToString(bias.shape)}, expected [${weight.shape[0]}]`);
  }
  const b = reshape(bias, [1, bias.size, 1, 1]); // [1, O, 1, 1]
  const result = M.add(y, b); // [N, O, OH, OW]
  y.dispose();
  b.dispose();
  return result;
}

/** Average pooling (padding counted in the average, like PyTorch's default). */
export function avgPool2d(x: Tensor, kernel: Pair, options: { stride?: Pair; padding?: Pair } = {}): Tensor {
  const k = pair('avgPool2d', 'kernel', kernel);
  return runOp('avgPool2d', [x], {
    kernel: k,
    stride: pair('avgPool2d', 'stride', options.stride ?? k),
    padding: pair('avgPool2d', 'padding', options.padding ?? 0),
  });
}

/** Mean over the spatial axes of NCHW: [N, C, H, W] -> [N, C]. */
export function globalAvgPool2d(x: Tensor): Tensor {
  if (x.rank !== 4) throw new Error(`globalAvgPool2d: input must be NCHW, got ${shapeToString(x.shape)}`);
  return M.mean(x, [2, 3]);
}

/** Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p). */
export function dropout(x: Tensor, p: number, options: RandomOptions & { training?: boolean } = {}): Tensor {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  // The identity as a new handle on the same data (a view, like reshape): no pass over memory.
  // G.pt's configs have dropout 0, where a copy per call was ~2% of the CPU train step.
  if (options.training === false || p === 0) return reshape(x, x.shape);
  const u = rand(x.shape, { ...options, device: x.device }); // [...x]
  const keepMask = M.greaterEqual(u, p); // [...x] bool
  const scaled = M.div(x, 1 - p); // [...x]
  const result = M.where(keepMask, scaled, 0); // [...x]
  for (const t of [u, keepMask, scaled]) t.dispose();
  return result;
}

export type Reduction = 'mean' | 'sum' | 'none';

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  if (reduction === 'none') return loss;
  const result = reduction === 'mean' ? M.mean(loss) : M.sum(loss);
  loss.dispose();
  return result;
}

/** Negative log-likelihood of int32 `labels` [N] under log-probabilities [N, C]. */
export function nllLoss(logProbs: Tensor, labels: Tensor, reduction: Reduction = 'mean'): Tensor {
  if (logProbs.rank !== 2) throw new Error(`nllLoss: expected log-probabilities [N, C], got ${shapeToString(logProbs.shape)}`);
  if (labels.dtype !== 'int32') throw new Error(`nllLoss: labels must be int32, got ${labels.dtype}`);
  if (labels.rank !== 1 || labels.shape[0] !== logProbs.shape[0]) {
    throw new Error(`nllLoss: labels ${shapeToString(labels.shape)} do not match log-probabilities ${shapeToString(logProbs.shape)}`);
  }
  const index = unsqueeze(labels, 1); // [N, 1]
  const picked = gather(logProbs, 1, index); // [N, 1]
  const flat = reshape(picked, [labels.size]); // [N]
  const loss = M.neg(flat); // [N]
  for (const t of [index, picked, flat]) t.dispose();
  return reduce(loss, reduction);
}

/** Cross-entropy of logits [N, C] against int32 class labels [N] (like F.cross_entropy). */
export function crossEntropy(logits: Tensor, labels: Tensor, reduction: Reduction = 'mean'): Tensor {
  const logProbs = M.logSoftmax(logits, -1); // [N, C]
  try {
    return nllLoss(logProbs, labels, reduction);
  } finally {
    logProbs.dispose();
  }
}

/** Mean squared error between equally shaped tensors. */
export function mse(prediction: Tensor, target: Tensor, reduction: Reduction = 'mean'): Tensor {
  if (!sameShape(prediction.shape, target.shape)) {
    throw new Error(`mse: prediction ${shapeToString(prediction.shape)} and target ${shapeToString(target.shape)} differ in shape`);
  }
  const diff = M.sub(prediction, target); // [...]
  const sq = M.mul(diff, diff); // [...]
  diff.dispose();
  return reduce(sq, reduction);
}
