// Attention on the CPU in plain TypeScript, one batch item at a time: the weights
// P = softmax(scale q kᵀ) of the item, then the output or one input's gradient. The public
// scaledDotProductAttention does not pick this kernel on the CPU (its composite runs the two
// products on the WASM GEMM, which is faster); it is the reference the WebGPU kernel is
// checked against op by op, and what `fused: true` runs here.

import type { TensorInfo } from '../backend.js';
import { attentionShapes, type OpAttrs, type TensorMeta } from '../ops.js';
import { sizeOf } from '../shape.js';

type F32 = TensorInfo<Float32Array>;

/** P = softmax(scale q kᵀ) of batch item b into `p` [Tq, Tk], rows in float64 sums. */
function weights(q: Float32Array, k: Float32Array, b: number, tq: number, tk: number, e: number, scale: number, p: Float64Array): void {
  for (let i = 0; i < tq; i++) {
    const qi = (b * tq + i) * e;
    let top = -Infinity;
    for (let j = 0; j < tk; j++) {
      const kj = (b * tk + j) * e;
      let dot = 0;
      for (let c = 0; c < e; c++) dot += q[qi + c]! * k[kj + c]!;
      p[i * tk + j] = dot * scale;
      top = Math.max(top, dot * scale);
    }
    const shift = top === -Infinity ? 0 : top;
    let total = 0;
    for (let j = 0; j < tk; j++) total += p[i * tk + j] = Math.exp(p[i * tk + j]! - shift);
    for (let j = 0; j < tk; j++) p[i * tk + j]! /= total;
  }
}

/** out [..., Tq, Ev] = P v. */
export function attention(inputs: readonly F32[], { scale }: OpAttrs['attention'], out: TensorMeta): Float32Array {
  const [q, k, v] = inputs as [F32, F32, F32];
  const { batch, tq, tk, e, ev } = attentionShapes('attention', inputs, scale);
  const result = new Float32Array(sizeOf(out.shape));
  const p = new Float64Array(tq * tk);
  for (let b = 0; b < batch; b++) {
    weights(q.buffer, k.buffer, b, tq, tk, e, scale, p);
    for (let i = 0; i < tq; i++) {
      for (let c = 0; c < ev; c++) {
        let acc = 0;
        for (let j = 0; j < tk; j++) acc += p[i * tk + j]! * v.buffer[(b * tk + j) * ev + c]!;
        result[(b * tq + i) * ev + c] = acc;
      }
    }
  }
  return result;
}

/** dq, dk or dv (attrs.wrt) from inputs [dOut, q, k, v]. */
export function attentionBackward(inputs: readonly F32[], { scale, wrt }: OpAttrs['attentionBackward'], out: TensorMeta): Float32Array {
  const [g, q, k, v] = inputs as [F32, F32, F32, F32];
  const { batch, tq, tk, e, ev } = attentionShapes('attentionBackward', [q, k, v], scale);
  const result = new Float32Array(sizeOf(out.shape));
  const p = new Float64Array(tq * tk);
  const ds = new Float64Array(tq * tk);
  for (let b = 0; b < batch; b++) {
    weights(q.buffer, k.buffer, b, tq, tk, e, scale, p);
    if (wrt === 'v') {
      // dv[j] = sum_i P[i, j] g[i]
      for (let j = 0; j < tk; j++) {
        for (let c = 0; c < ev; c++) {
          let acc = 0;
          for (let i = 0; i < tq; i++) acc += p[i * tk + j]! * g.buffer[(b * tq + i) * ev + c]!;
          result[(b * tk + j) * ev + c] = acc;
        }
      }
      continue;
    }
    // dS = scale P (g vᵀ - rowsum(P ⊙ g vᵀ))
    for (let i = 0; i < tq; i++) {
      let rowDot = 0;
      for (let j = 0; j < tk; j++) {
        let dp = 0;
        for (let c = 0; c < ev; c++) dp += g.buffer[(b * tq + i) * ev + c]! * v.buffer[(b * tk + j) * ev + c]!;
        ds[i * tk + j] = dp;
        rowDot += dp * p[i * tk + j]!;
      }
      for (let j = 0; j < tk; j++) ds[i * tk + j] = scale * p[i * tk + j]! * (ds[i * tk + j]! - rowDot);
    }
    if (wrt === 'q') {
      // dq[i] = sum_j dS[i, j] k[j]
      for (let i = 0; i < tq; i++) {
        for (let c = 0; c < e; c++) {
          let acc = 0;
          for (let j = 0; j < tk; j++) acc += ds[i * tk + j]! * k.buffer[(b * tk + j) * e + c]!;
          result[(b * tq + i) * e + c] = acc;
        }
      }
    } else {
      // dk[j] = sum_i dS[i, j] q[i]
      for (let j = 0; j < tk; j++) {
        for (let c = 0; c < e; c++) {
          let acc = 0;
          for (let i = 0; i < tq; i++) acc += ds[i * tk + j]! * q.buffer[(b * tq + i) * e + c]!;
          result[(b * tk + j) * e + c] = acc;
        }
      }
    }
  }
  return result;
}
