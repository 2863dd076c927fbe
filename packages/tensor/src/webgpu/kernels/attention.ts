// Fused attention for short sequences: one workgroup per batch item (batch x heads) keeps
// the item's [Tq, Tk] weights P = softmax(scale q kᵀ) in workgroup memory, so the scores
// never reach global memory and the whole forward pass is one dispatch (instead of two
// batched matmuls, a scale and a softmax). The backward pass is one dispatch per input
// gradient, each recomputing P from q and k (cheap at G.pt's 7-26 tokens, and it keeps
// the forward pass from storing anything but its inputs):
//   dv = Pᵀ g,  dS = scale P (g vᵀ - rowsum(P ⊙ g vᵀ)),  dq = dS k,  dk = dSᵀ q.
// Invocations of a workgroup stride over the entries of each stage, with a barrier between
// stages (two to four in all).
// The workgroup arrays (p, and ds for the q/k gradients) are sized by the spec: the
// smallest of ATTENTION_CAPACITIES that holds Tq·Tk scores and fits the device's
// maxComputeWorkgroupStorageSize, so 16 KiB (the WebGPU minimum) takes T <= 45 and
// 32 KiB (lavapipe, most GPUs) T <= 64, G.pt's longest sequences. The 'gpu' kernels run
// 256 invocations per workgroup so the T² stages (4096 scores at T 64) have enough of
// them; the 'software' ones keep 64.

import { attentionShapes, type OpAttrs, type TensorMeta } from '../../ops.js';
import { shapeToString } from '../../shape.js';
import { kernelSpec, Params, type GpuInfo, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { FLOAT_CLASS_WGSL, GROUP_INDEX, MAIN_ARGS, PARAMS_WGSL, storage, WORKGROUP_SIZE } from './wgsl.js';

/** Scores a workgroup array can hold, one spec each (4, 8 or 16 KiB per array). */
export const ATTENTION_CAPACITIES = [1024, 2048, 4096] as const;

const BATCH = 0;
const TQ = 1;
const TK = 2;
const E = 3;
const EV = 4;
const SCALE = 5;

export type AttentionMode = 'forward' | OpAttrs['attentionBackward']['wrt'];

/** Each mode's last stage: `n` strides over its output entries of this batch item. */
const FINAL_STAGE: Record<AttentionMode, string> = {
  // out[i, c] = sum_j P[i, j] v[j, c]
  forward: `for (var n = li; n < tq * ev; n += WG) {
    let i = n / ev;
    let c = n % ev;
    var acc = ZERO;
    for (var j = 0u; j < tk; j++) { acc += p[i * tk + j] * v[v0 + j * ev + c]; }
    out[o0 + n] = acc;
  }`,
  // dv[j, c] = sum_i P[i, j] g[i, c]
  v: `for (var n = li; n < tk * ev; n += WG) {
    let j = n / ev;
    let c = n % ev;
    var acc = ZERO;
    for (var i = 0u; i < tq; i++) { acc += p[i * tk + j] * g[o0 + i * ev + c]; }
    out[v0 + n] = acc;
  }`,
  // dq[i, c] = sum_j dS[i, j] k[j, c]
  q: `for (var n = li; n < tq * e; n += WG) {
    let i = n / e;
    let c = n % e;
    var acc = ZERO;
    for (var j = 0u; j < tk; j++) { acc += ds[i * tk + j] * k[k0 + j * e + c]; }
    out[q0 + n] = acc;
  }`,
  // dk[j, c] = sum_i dS[i, j] q[i, c]
  k: `for (var n = li; n < tk * e; n += WG) {
    let j = n / e;
    let c = n % e;
    var acc = ZERO;
    for (var i = 0u; i < tq; i++) { acc += ds[i * tk + j] * q[q0 + i * e + c]; }
    out[k0 + n] = acc;
  }`,
};

/** dS = scale P (dP - rowsum(P ⊙ dP)) with dP = g vᵀ, into the workgroup array ds. */
const SCORE_GRADIENT = `for (var n = li; n < tq * tk; n += WG) {
    let i = n / tk;
    let j = n % tk;
    var dp = 0.0;
    for (var c = 0u; c < ev; c++) { dp += DOT(g[o0 + i * ev + c], v[v0 + j * ev + c]); }
    ds[n] = dp;
  }
  workgroupBarrier();
  for (var i = li; i < tq; i += WG) {
    var row_dot = 0.0;
    for (var j = 0u; j < tk; j++) { row_dot += p[i * tk + j] * ds[i * tk + j]; }
    for (var j = 0u; j < tk; j++) { ds[i * tk + j] = scale * p[i * tk + j] * (ds[i * tk + j] - row_dot); }
  }
  workgroupBarrier();`;

/**
 * Bindings: forward 1 q, 2 k, 3 v, 4 out; backward 1 g, 2 q, 3 k, 4 v, 5 out. With `vec4` (both
 * head dims multiples of 4, as every G.pt config's are) the arrays are read and written as
 * vec4<f32> and every offset below counts vec4s: a quarter of the loads, which is most of the
 * time on llvmpipe, where each invocation's load of a scattered address is a scalar gather.
 */
export function attentionSpec(mode: AttentionMode, vec4 = false, capacity = 1024, workgroup = WORKGROUP_SIZE): KernelSpec {
  return kernelSpec(`attention:${mode}:${vec4 ? 'vec4' : 'f32'}:${capacity}:wg${workgroup}`, () => {
    const backward = mode !== 'forward';
    const names = backward ? ['g', 'q', 'k', 'v'] : ['q', 'k', 'v'];
    const type = vec4 ? 'vec4<f32>' : 'f32';
    const bindings = [...names.map((name, i) => storage(i + 1, name, type, 'read')), storage(names.length + 1, 'out', type, 'read_write')];
    const needsDs = workgroupArrays(mode) === 2;
    const code = `${PARAMS_WGSL}
${FLOAT_CLASS_WGSL}
${bindings.join('\n')}
const WG = ${workgroup}u;
var<workgroup> p: array<f32, ${capacity}>; // [Tq, Tk] weights of this batch item
${needsDs ? `var<workgroup> ds: array<f32, ${capacity}>; // [Tq, Tk] score gradients` : ''}

@compute @workgroup_size(${workgroup})
fn main(${MAIN_ARGS}) {
  let b = ${GROUP_INDEX};
  if (b >= pu(${BATCH}u)) { return; }
  let tq = pu(${TQ}u);
  let tk = pu(${TK}u);
  let e = pu(${E}u) / ${vec4 ? 4 : 1}u;
  let ev = pu(${EV}u) / ${vec4 ? 4 : 1}u;
  let scale = pf(${SCALE}u);
  let q0 = b * tq * e;
  let k0 = b * tk * e;
  let v0 = b * tk * ev;
  let o0 = b * tq * ev;
  // Scores, then each row's softmax in place (a row of -inf is shifted by 0, like the softmax kernel).
  for (var n = li; n < tq * tk; n += WG) {
    let i = n / tk;
    let j = n % tk;
    var score = 0.0;
    for (var c = 0u; c < e; c++) { score += DOT(q[q0 + i * e + c], k[k0 + j * e + c]); }
    p[n] = score * scale;
  }
  workgroupBarrier();
  for (var i = li; i < tq; i += WG) {
    var m = neg_inf();
    for (var j = 0u; j < tk; j++) { m = max(m, p[i * tk + j]); }
    let shift = select(m, 0.0, m == neg_inf());
    var total = 0.0;
    for (var j = 0u; j < tk; j++) {
      let w = exp(p[i * tk + j] - shift);
      p[i * tk + j] = w;
      total += w;
    }
    for (var j = 0u; j < tk; j++) { p[i * tk + j] = p[i * tk + j] / total; }
  }
  workgroupBarrier();
  ${needsDs ? SCORE_GRADIENT : ''}
  ${FINAL_STAGE[mode]}
}
`
      .replace(/ZERO/g, vec4 ? 'vec4<f32>(0.0)' : '0.0')
      .replace(/DOT\(([^,]+), ([^)]+\])\)/g, vec4 ? 'dot($1, $2)' : '$1 * $2');
    return { code, storage: [...names.map(() => 'read' as const), 'read_write'] };
  });
}

/** f32 arrays of Tq·Tk a mode keeps in workgroup memory: p, and ds for the q/k gradients. */
function workgroupArrays(mode: AttentionMode): 1 | 2 {
  return mode === 'q' || mode === 'k' ? 2 : 1;
}

/** The smallest capacity holding `scores` whose `arrays` arrays fit in `workgroupStorageBytes`, or null. */
function attentionCapacity(scores: number, arrays: number, workgroupStorageBytes: number): number | null {
  return ATTENTION_CAPACITIES.find((capacity) => scores <= capacity && arrays * capacity * 4 <= workgroupStorageBytes) ?? null;
}

/**
 * Whether the fused kernel takes these sizes in every mode (forward and all three
 * gradients), on a device with `workgroupStorageBytes` of workgroup memory
 * (16 KiB, the WebGPU minimum, unless told).
 */
export function attentionFits(tq: number, tk: number, workgroupStorageBytes = 16384): boolean {
  return attentionCapacity(tq * tk, 2, workgroupStorageBytes) !== null;
}

/** attention (inputs [q, k, v]) or, with `wrt`, attentionBackward (inputs [g, q, k, v]). */
export function runAttention(ctx: KernelContext, inputs: readonly GpuInfo[], scale: number, wrt: AttentionMode, out: TensorMeta): GpuTensorBuffer {
  const op = wrt === 'forward' ? 'attention' : 'attentionBackward';
  const qkv = wrt === 'forward' ? inputs : inputs.slice(1);
  const { batch, tq, tk, e, ev } = attentionShapes(op, qkv, scale);
  const arrays = workgroupArrays(wrt);
  const capacity = attentionCapacity(tq * tk, arrays, ctx.maxWorkgroupStorageBytes);
  if (capacity === null) {
    const most = Math.max(0, ...ATTENTION_CAPACITIES.filter((c) => arrays * c * 4 <= ctx.maxWorkgroupStorageBytes));
    throw new Error(
      `${op}: q ${shapeToString(qkv[0]!.shape)} and k ${shapeToString(qkv[1]!.shape)} give ${tq} x ${tk} scores per item, more than the WebGPU kernel holds here (${most}: ${arrays} f32 array${arrays > 1 ? 's' : ''} of scores within this device's maxComputeWorkgroupStorageSize of ${ctx.maxWorkgroupStorageBytes} bytes); scaledDotProductAttention composes primitives for such sizes`,
    );
  }
  const result = ctx.allocate(op, out);
  // Every entry of the output is written (sums over an empty axis give 0), so only an empty batch skips the dispatch.
  const params = new Params().u32(BATCH, batch).u32(TQ, tq).u32(TK, tk).u32(E, e).u32(EV, ev).f32(SCALE, scale);
  const vec4 = e % 4 === 0 && ev % 4 === 0;
  const workgroup = ctx.profile === 'gpu' ? 256 : WORKGROUP_SIZE;
  if (batch > 0) ctx.dispatch(op, attentionSpec(wrt, vec4, capacity, workgroup), params, [...inputs.map((t) => t.buffer), result], ctx.grid(op, batch, 1));
  return result;
}

/**
 * The specs a device with `workgroupStorageBytes` can build. Dawn's null backend (the
 * compile test) offers 16 KiB, so the 32 KiB q/k gradient kernels are validated by the
 * attention tests on lavapipe instead.
 */
export function attentionVariants(workgroupStorageBytes = 16384): KernelSpec[] {
  const specs: KernelSpec[] = [];
  for (const mode of ['forward', 'q', 'k', 'v'] as const) {
    for (const capacity of ATTENTION_CAPACITIES) {
      if (workgroupArrays(mode) * capacity * 4 > workgroupStorageBytes) continue;
      for (const workgroup of [WORKGROUP_SIZE, 256]) specs.push(attentionSpec(mode, false, capacity, workgroup), attentionSpec(mode, true, capacity, workgroup));
    }
  }
  return specs;
}
