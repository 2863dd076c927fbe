// Attention in float64 from its definition, softmax(q kᵀ · scale [masked]) v, one batch item
// at a time, and the gradient with respect to one input by central differences of
// sum(attention · g): the backward kernels are checked against the forward definition alone.

import { sizeOf, type NdArray } from './nd-array.js';

/** q [..., Tq, E], k [..., Tk, E], v [..., Tk, Ev] with equal batch dims; mask [Tq, Tk] (1 = attend). */
export function attention(q: NdArray, k: NdArray, v: NdArray, scale: number, mask: NdArray | null = null): NdArray {
  const [tq, e] = q.shape.slice(-2) as [number, number];
  const tk = k.shape.at(-2)!;
  const ev = v.shape.at(-1)!;
  const batch = sizeOf(q.shape.slice(0, -2));
  const data = new Float64Array(batch * tq * ev);
  for (let b = 0; b < batch; b++) {
    for (let i = 0; i < tq; i++) {
      const scores = Array.from({ length: tk }, (_, j) => {
        if (mask && !mask.data[i * tk + j]) return -Infinity;
        let dot = 0;
        for (let c = 0; c < e; c++) dot += q.data[(b * tq + i) * e + c]! * k.data[(b * tk + j) * e + c]!;
        return dot * scale;
      });
      const top = Math.max(...scores);
      const w = scores.map((s) => Math.exp(s - top));
      const total = w.reduce((a, x) => a + x, 0);
      for (let j = 0; j < tk; j++) {
        for (let c = 0; c < ev; c++) data[(b * tq + i) * ev + c]! += (w[j]! / total) * v.data[(b * tk + j) * ev + c]!;
      }
    }
  }
  return { shape: [...q.shape.slice(0, -1), ev], dtype: 'float32', data };
}

/** d sum(attention(q, k, v) · g) / d (q, k or v), by central differences (step 1e-6). */
export function attentionGradient(g: NdArray, q: NdArray, k: NdArray, v: NdArray, scale: number, wrt: 'q' | 'k' | 'v'): NdArray {
  const inputs = { q, k, v };
  const target = inputs[wrt];
  const loss = (shifted: NdArray): number => {
    const args = { ...inputs, [wrt]: shifted };
    return attention(args.q, args.k, args.v, scale).data.reduce((acc, y, i) => acc + y * g.data[i]!, 0);
  };
  const data = target.data.map((_, i) => {
    const at = (delta: number) => loss({ ...target, data: target.data.map((x, j) => (j === i ? x + delta : x)) });
    return (at(1e-6) - at(-1e-6)) / 2e-6;
  });
  return { shape: [...target.shape], dtype: 'float32', data };
}
