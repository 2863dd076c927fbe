// Scaled dot-product attention, softmax(q kᵀ · scale [masked]) v: the `attention` op where the
// backend fuses it (WebGPU for short sequences: one dispatch forward, one per input gradient),
// else a composite of primitives (the CPU, where the two products run on the fast GEMM, kᵀ as
// a transpose flag rather than a copy). Masks, dropout and broadcast batch dims always take
// the composite.

import { runOp } from './engine.js';
import { dropout } from './ops-nn.js';
import { matmul, mul, softmax, where } from './ops-math.js';
import type { Generator } from './random.js';
import { tidy } from './scopes.js';
import { sameShape } from './shape.js';
import type { Tensor } from './tensor.js';

export interface AttentionOptions {
  /** Boolean, broadcastable to [..., Tq, Tk]: true where a query may attend to a key. */
  mask?: Tensor | null;
  /** Multiplies the scores; default 1 / sqrt(head dim). */
  scale?: number;
  /** Dropout on the attention weights (active only when > 0). */
  dropoutP?: number;
  generator?: Generator;
  /**
   * true: the fused `attention` op (every backend has its kernel; the inputs must then share
   * their batch dims and there must be no mask or dropout); false: the composite; default:
   * the fused op where the backend asks for it (`fusesAttention`) and the call allows it.
   */
  fused?: boolean;
}

/** q [..., Tq, E], k [..., Tk, E], v [..., Tk, Ev] -> [..., Tq, Ev]. */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  const [e, tq, tk] = [q.shape.at(-1), q.shape.at(-2), k.shape.at(-2)];
  if (q.rank < 2 || k.rank !== q.rank || v.rank !== q.rank || k.shape.at(-1) !== e || v.shape.at(-2) !== tk) {
    throw new Error(
      `scaledDotProductAttention: expected q [..., Tq, E], k [..., Tk, E], v [..., Tk, Ev] of one rank, got q [${q.shape.join(', ')}], k [${k.shape.join(', ')}], v [${v.shape.join(', ')}]`,
    );
  }
  const scale = options.scale ?? 1 / Math.sqrt(e!);
  const plain = !options.mask && !options.dropoutP;
  const sameBatch = sameShape(k.shape.slice(0, -2), q.shape.slice(0, -2)) && sameShape(v.shape.slice(0, -2), q.shape.slice(0, -2));
  if (options.fused === true && !(plain && sameBatch)) {
    throw new Error(
      `scaledDotProductAttention: fused: true needs equal batch dims and no mask or dropout, got q [${q.shape.join(', ')}], k [${k.shape.join(', ')}], v [${v.shape.join(', ')}]${options.mask ? ', a mask' : ''}${options.dropoutP ? `, dropoutP ${options.dropoutP}` : ''}`,
    );
  }
  const fused = options.fused ?? (plain && sameBatch && q.storage.backend.fusesAttention?.(tq!, tk!) === true);
  if (fused) return runOp('attention', [q, k, v], { scale }); // [..., Tq, Ev]
  return tidy(() => {
    const scores = mul(matmul(q, k, { transB: true }), scale); // [..., Tq, Tk]
    const masked = options.mask ? where(options.mask, scores, -Infinity) : scores; // [..., Tq, Tk]
    let weights = softmax(masked, -1); // [..., Tq, Tk]
    if (options.dropoutP) weights = dropout(weights, options.dropoutP, { generator: options.generator }); // [..., Tq, Tk]
    return matmul(weights, v); // [..., Tq, Ev]
  });
}
