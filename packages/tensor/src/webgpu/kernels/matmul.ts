// Batched matmul with broadcast batch dims and transposed operands, as a
// register-blocked kernel without workgroup memory: each invocation keeps a 4x4
// block of C in registers and streams its 4 rows of A and 4 columns of B from
// global memory. No barrier per k-step: on software GPUs (llvmpipe) barriers cost
// more than the reloads they save (see design/environment.md), and on real GPUs the
// caches serve the reloads. Operands are read through strides, so transA/transB
// need no copy and no extra shader variant.

import { matmulShapes, type OpAttrs, type TensorMeta } from '../../ops.js';
import { broadcastStrides, sizeOf } from '../../shape.js';
import { kernelSpec, Params, type GpuInfo, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { assertRank, coalesce } from './strided-layout.js';
import { MAX_RANK, PARAMS_WGSL, storage, unravelWgsl } from './wgsl.js';

/** Invocations per workgroup side; each computes TILE x TILE outputs. */
export const MATMUL_THREADS = 8;
export const MATMUL_TILE = 4;
const BLOCK = MATMUL_THREADS * MATMUL_TILE;

const M = 0;
const N = 1;
const K = 2;
const BATCH_OFFSET = 3;
const A_ROW = 4;
const A_COL = 5;
const B_ROW = 6;
const B_COL = 7;
const BATCH_RANK = 8;
const BATCH_SHAPE = 16;
const A_BATCH = BATCH_SHAPE + MAX_RANK;
const B_BATCH = A_BATCH + MAX_RANK;

export function matmulSpec(): KernelSpec {
  return kernelSpec('matmul', () => ({
    code: `${PARAMS_WGSL}
${storage(1, 'a', 'f32', 'read')}
${storage(2, 'b', 'f32', 'read')}
${storage(3, 'c', 'f32', 'read_write')}
@compute @workgroup_size(${MATMUL_THREADS}, ${MATMUL_THREADS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let m = pu(${M}u);
  let n = pu(${N}u);
  let k = pu(${K}u);
  let row0 = (wg.y * ${MATMUL_THREADS}u + lid.y) * ${MATMUL_TILE}u;
  let col0 = (wg.x * ${MATMUL_THREADS}u + lid.x) * ${MATMUL_TILE}u;
  if (row0 >= m || col0 >= n) { return; }
  let batch = wg.z + pu(${BATCH_OFFSET}u);
  ${unravelWgsl('batch', BATCH_RANK, BATCH_SHAPE, ['a_base', 'b_base'], [A_BATCH, B_BATCH])}
  let a_row = pu(${A_ROW}u);
  let a_col = pu(${A_COL}u);
  let b_row = pu(${B_ROW}u);
  let b_col = pu(${B_COL}u);
  // Edge blocks read clamped rows/columns (valid memory) and skip writing them.
  let a0 = a_base + row0 * a_row;
  let a1 = a_base + min(row0 + 1u, m - 1u) * a_row;
  let a2 = a_base + min(row0 + 2u, m - 1u) * a_row;
  let a3 = a_base + min(row0 + 3u, m - 1u) * a_row;
  let b0 = b_base + col0 * b_col;
  let b1 = b_base + min(col0 + 1u, n - 1u) * b_col;
  let b2 = b_base + min(col0 + 2u, n - 1u) * b_col;
  let b3 = b_base + min(col0 + 3u, n - 1u) * b_col;
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  for (var p = 0u; p < k; p++) {
    let ap = p * a_col;
    let bp = p * b_row;
    let av = vec4<f32>(a[a0 + ap], a[a1 + ap], a[a2 + ap], a[a3 + ap]);
    let bv = vec4<f32>(b[b0 + bp], b[b1 + bp], b[b2 + bp], b[b3 + bp]);
    c0 += av.x * bv;
    c1 += av.y * bv;
    c2 += av.z * bv;
    c3 += av.w * bv;
  }
  let out_base = batch * m * n;
  let rows = array<vec4<f32>, 4>(c0, c1, c2, c3);
  for (var i = 0u; i < ${MATMUL_TILE}u; i++) {
    let row = row0 + i;
    if (row >= m) { break; }
    let r = rows[i];
    let base = out_base + row * n + col0;
    c[base] = r.x;
    if (col0 + 1u < n) { c[base + 1u] = r.y; }
    if (col0 + 2u < n) { c[base + 2u] = r.z; }
    if (col0 + 3u < n) { c[base + 3u] = r.w; }
  }
}
`,
    storage: ['read', 'read', 'read_write'],
  }));
}

export function runMatmul(ctx: KernelContext, inputs: readonly GpuInfo[], attrs: OpAttrs['matmul'], out: TensorMeta): GpuTensorBuffer {
  const [A, B] = inputs as [GpuInfo, GpuInfo];
  const { batch, m, k, n } = matmulShapes(A.shape, B.shape, attrs);
  const result = ctx.allocate('matmul', out);
  const total = sizeOf(batch);
  if (total === 0 || m === 0 || n === 0) return result;
  // Element (i, p) of the logical [m, k] operand A, and (p, j) of B, within one matrix.
  const [aRow, aCol] = attrs.transA ? [1, m] : [k, 1];
  const [bRow, bCol] = attrs.transB ? [1, k] : [n, 1];
  const aBatch = broadcastStrides(A.shape.slice(0, -2), batch).map((s) => s * m * k);
  const bBatch = broadcastStrides(B.shape.slice(0, -2), batch).map((s) => s * k * n);
  const layout = coalesce(batch, [aBatch, bBatch]);
  assertRank('matmul', layout, out.shape);
  const params = new Params()
    .u32(M, m)
    .u32(N, n)
    .u32(K, k)
    .u32(A_ROW, aRow)
    .u32(A_COL, aCol)
    .u32(B_ROW, bRow)
    .u32(B_COL, bCol)
    .u32(BATCH_RANK, layout.shape.length)
    .u32s(BATCH_SHAPE, layout.shape)
    .u32s(A_BATCH, layout.strides[0]!)
    .u32s(B_BATCH, layout.strides[1]!);
  const [gx, gy] = [Math.ceil(n / BLOCK), Math.ceil(m / BLOCK)];
  const zLimit = ctx.maxWorkgroupsPerDimension;
  if (gx > zLimit || gy > zLimit) {
    throw new Error(`matmul: [${m}, ${k}] x [${k}, ${n}] needs ${gy} x ${gx} workgroups, over this adapter's maxComputeWorkgroupsPerDimension (${zLimit})`);
  }
  // The batch runs along z; past the per-dimension limit it is split over several dispatches.
  for (let offset = 0; offset < total; offset += zLimit) {
    const chunk = Math.min(zLimit, total - offset);
    const p = new Params();
    p.words.set(params.words);
    p.u32(BATCH_OFFSET, offset);
    ctx.dispatch('matmul', matmulSpec(), p, [A.buffer, B.buffer, result], [gx, gy, chunk]);
  }
  return result;
}

export function matmulVariants(): KernelSpec[] {
  return [matmulSpec()];
}
