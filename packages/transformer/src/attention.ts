// Scaled dot-product attention as one composite: softmax(q kᵀ · scale [masked]) v. G.pt's
// sequences are short (18-26 tokens), so the [.., T, T] score matrix is small and the
// work is in the two batched matmuls; kᵀ is a transpose flag of the matmul, not a copy.

import { dropout, matmul, mul, softmax, tidy, where, type Generator, type Tensor } from '@gpt/tensor';

export interface AttentionOptions {
  /** Boolean, broadcastable to [..., Tq, Tk]: true where a query may attend to a key. None in G.pt. */
  mask?: Tensor | null;
  /** Multiplies the scores; default 1 / sqrt(head dim). */
  scale?: number;
  /** Dropout on the attention weights (active only when > 0). */
  dropoutP?: number;
  generator?: Generator;
}

/** q [..., Tq, E], k [..., Tk, E], v [..., Tk, Ev] -> [..., Tq, Ev]. */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  const [e, tk] = [q.shape.at(-1), k.shape.at(-2)];
  if (q.rank < 2 || k.rank !== q.rank || v.rank !== q.rank || k.shape.at(-1) !== e || v.shape.at(-2) !== tk) {
    throw new Error(
      `scaledDotProductAttention: expected q [..., Tq, E], k [..., Tk, E], v [..., Tk, Ev] of one rank, got q [${q.shape.join(', ')}], k [${k.shape.join(', ')}], v [${v.shape.join(', ')}]`,
    );
  }
  const scale = options.scale ?? 1 / Math.sqrt(e!);
  return tidy(() => {
    const scores = mul(matmul(q, k, { transB: true }), scale); // [..., Tq, Tk]
    const masked = options.mask ? where(options.mask, scores, -Infinity) : scores; // [..., Tq, Tk]
    let weights = softmax(masked, -1); // [..., Tq, Tk]
    if (options.dropoutP) weights = dropout(weights, options.dropoutP, { generator: options.generator }); // [..., Tq, Tk]
    return matmul(weights, v); // [..., Tq, Ev]
  });
}
