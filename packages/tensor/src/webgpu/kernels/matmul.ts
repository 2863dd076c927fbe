// Batched matmul with broadcast batch dims and transposed operands, as
// register-blocked kernels without workgroup memory: each invocation keeps a block
// of C in registers and streams its rows of A and columns of B from global memory.
// No barrier per k-step: on software GPUs (llvmpipe) barriers cost more than the
// reloads they save (see design/environment.md), and on real GPUs the caches serve
// the reloads. Operands are read through strides (or as vec4 where the
// layout allows), so transA/transB never need a copy.

import { matmulShapes, type OpAttrs, type TensorMeta } from '../../ops.js';
import { broadcastStrides, sizeOf } from '../../shape.js';
import { kernelSpec, Params, type GpuInfo, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { assertRank, coalesce } from './strided-layout.js';
import { MAX_RANK, PARAMS_WGSL, storage, unravelWgsl } from './wgsl.js';

/** Invocations per workgroup side (8 x 8). */
export const MATMUL_THREADS = 8;

/**
 * Three programs, chosen per call by layout:
 *   rows     B rows contiguous (no transB) and n % 4 == 0: B and C move as vec4, each
 *            invocation keeps a 4 x 8 block (the fastest on llvmpipe by ~1.5-2x);
 *   rows-at  the same for A^T B with m % 4 == 0 (weight gradients): A moves as vec4 too;
 *   dot      A x B^T with k % 4 == 0: both operands move as vec4 along k, 4 x 4 blocks
 *            of dot products (the backward pass's dX = dY W^T, attention's Q K^T);
 *   generic  anything else: scalar loads through strides, 4 x 4 blocks.
 */
export type MatmulVariant = 'rows' | 'rows-at' | 'dot' | 'generic';

/** Rows and columns of C each variant's workgroup covers. */
const BLOCK: Record<MatmulVariant, { rows: number; cols: number }> = {
  rows: { rows: 32, cols: 64 },
  'rows-at': { rows: 32, cols: 64 },
  dot: { rows: 32, cols: 32 },
  generic: { rows: 32, cols: 32 },
};

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

/** Stores a 4x4 tile (rows c0..c3) of a scalar C at row0/col0, clipped to m x n. */
const STORE_4X4_WGSL = `let rows = array<vec4<f32>, 4>(c0, c1, c2, c3);
  for (var i = 0u; i < 4u; i++) {
    if (row0 + i >= m) { break; }
    let r = rows[i];
    let base = out_base + (row0 + i) * n + col0;
    c[base] = r.x;
    if (col0 + 1u < n) { c[base + 1u] = r.y; }
    if (col0 + 2u < n) { c[base + 2u] = r.z; }
    if (col0 + 3u < n) { c[base + 3u] = r.w; }
  }`;

function prologue(aType: string, bType: string, cType: string): string {
  return `${PARAMS_WGSL}
${storage(1, 'a', aType, 'read')}
${storage(2, 'b', bType, 'read')}
${storage(3, 'c', cType, 'read_write')}
@compute @workgroup_size(${MATMUL_THREADS}, ${MATMUL_THREADS})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let m = pu(${M}u);
  let n = pu(${N}u);
  let k = pu(${K}u);
  let batch = wg.z + pu(${BATCH_OFFSET}u);
  ${unravelWgsl('batch', BATCH_RANK, BATCH_SHAPE, ['a_base', 'b_base'], [A_BATCH, B_BATCH])}
  let a_row = pu(${A_ROW}u);
  let a_col = pu(${A_COL}u);
  let b_row = pu(${B_ROW}u);
  let b_col = pu(${B_COL}u);
  let row0 = (wg.y * ${MATMUL_THREADS}u + lid.y) * 4u;
  if (row0 >= m) { return; }
  // Edge blocks read clamped rows/columns (valid memory) and skip writing them.
  let r1 = min(row0 + 1u, m - 1u);
  let r2 = min(row0 + 2u, m - 1u);
  let r3 = min(row0 + 3u, m - 1u);
  let out_base = batch * m * n;`;
}

const GENERIC_WGSL = `${prologue('f32', 'f32', 'f32')}
  let col0 = (wg.x * ${MATMUL_THREADS}u + lid.x) * 4u;
  if (col0 >= n) { return; }
  let a0 = a_base + row0 * a_row;
  let a1 = a_base + r1 * a_row;
  let a2 = a_base + r2 * a_row;
  let a3 = a_base + r3 * a_row;
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
  ${STORE_4X4_WGSL}
}
`;

// B (p, 4j..4j+3) is vec4 number (b_base + p * n) / 4 + j; C likewise. With
// \`transposedA\` (transA and m % 4 == 0), A's 4 rows at step p are one vec4 too.
function rowsWgsl(transposedA: boolean): string {
  const loadA = transposedA
    ? `let av = a[(a_base + p * m + row0) / 4u];
    let s0 = av.x;
    let s1 = av.y;
    let s2 = av.z;
    let s3 = av.w;`
    : `let ap = p * a_col;
    let s0 = a[a0 + ap];
    let s1 = a[a1 + ap];
    let s2 = a[a2 + ap];
    let s3 = a[a3 + ap];`;
  return `${prologue(transposedA ? 'vec4<f32>' : 'f32', 'vec4<f32>', 'vec4<f32>')}
  let n4 = n / 4u;
  let j0 = (wg.x * ${MATMUL_THREADS}u + lid.x) * 2u;
  if (j0 >= n4) { return; }
  let j1 = min(j0 + 1u, n4 - 1u);
  let a0 = a_base + row0 * a_row;
  let a1 = a_base + r1 * a_row;
  let a2 = a_base + r2 * a_row;
  let a3 = a_base + r3 * a_row;
  let b4 = b_base / 4u;
  var x0 = vec4<f32>(0.0);
  var x1 = vec4<f32>(0.0);
  var x2 = vec4<f32>(0.0);
  var x3 = vec4<f32>(0.0);
  var y0 = vec4<f32>(0.0);
  var y1 = vec4<f32>(0.0);
  var y2 = vec4<f32>(0.0);
  var y3 = vec4<f32>(0.0);
  for (var p = 0u; p < k; p++) {
    let bp = b4 + p * n4;
    let bx = b[bp + j0];
    let by = b[bp + j1];
    ${loadA}
    x0 += s0 * bx;
    x1 += s1 * bx;
    x2 += s2 * bx;
    x3 += s3 * bx;
    y0 += s0 * by;
    y1 += s1 * by;
    y2 += s2 * by;
    y3 += s3 * by;
  }
  let xs = array<vec4<f32>, 4>(x0, x1, x2, x3);
  let ys = array<vec4<f32>, 4>(y0, y1, y2, y3);
  for (var i = 0u; i < 4u; i++) {
    if (row0 + i >= m) { break; }
    let base = (out_base + (row0 + i) * n) / 4u;
    c[base + j0] = xs[i];
    if (j0 + 1u < n4) { c[base + j0 + 1u] = ys[i]; }
  }
}
`;
}

// A (i, 4q..4q+3) is vec4 number (a_base + i * k) / 4 + q; B^T (j, 4q..4q+3) likewise.
const DOT_WGSL = `${prologue('vec4<f32>', 'vec4<f32>', 'f32')}
  let col0 = (wg.x * ${MATMUL_THREADS}u + lid.x) * 4u;
  if (col0 >= n) { return; }
  let k4 = k / 4u;
  let a0 = (a_base + row0 * k) / 4u;
  let a1 = (a_base + r1 * k) / 4u;
  let a2 = (a_base + r2 * k) / 4u;
  let a3 = (a_base + r3 * k) / 4u;
  let b0 = (b_base + col0 * k) / 4u;
  let b1 = (b_base + min(col0 + 1u, n - 1u) * k) / 4u;
  let b2 = (b_base + min(col0 + 2u, n - 1u) * k) / 4u;
  let b3 = (b_base + min(col0 + 3u, n - 1u) * k) / 4u;
  var c0 = vec4<f32>(0.0);
  var c1 = vec4<f32>(0.0);
  var c2 = vec4<f32>(0.0);
  var c3 = vec4<f32>(0.0);
  for (var q = 0u; q < k4; q++) {
    let u0 = a[a0 + q];
    let u1 = a[a1 + q];
    let u2 = a[a2 + q];
    let u3 = a[a3 + q];
    let v0 = b[b0 + q];
    let v1 = b[b1 + q];
    let v2 = b[b2 + q];
    let v3 = b[b3 + q];
    c0 += vec4<f32>(dot(u0, v0), dot(u0, v1), dot(u0, v2), dot(u0, v3));
    c1 += vec4<f32>(dot(u1, v0), dot(u1, v1), dot(u1, v2), dot(u1, v3));
    c2 += vec4<f32>(dot(u2, v0), dot(u2, v1), dot(u2, v2), dot(u2, v3));
    c3 += vec4<f32>(dot(u3, v0), dot(u3, v1), dot(u3, v2), dot(u3, v3));
  }
  ${STORE_4X4_WGSL}
}
`;

const SOURCES: Record<MatmulVariant, () => string> = {
  rows: () => rowsWgsl(false),
  'rows-at': () => rowsWgsl(true),
  dot: () => DOT_WGSL,
  generic: () => GENERIC_WGSL,
};

export function matmulSpec(variant: MatmulVariant): KernelSpec {
  return kernelSpec(`matmul:${variant}`, () => ({ code: SOURCES[variant](), storage: ['read', 'read', 'read_write'] }));
}

function chooseVariant(attrs: OpAttrs['matmul'], m: number, n: number, k: number): MatmulVariant {
  if (!attrs.transB && n % 4 === 0) return attrs.transA && m % 4 === 0 ? 'rows-at' : 'rows';
  if (!attrs.transA && attrs.transB && k % 4 === 0) return 'dot';
  return 'generic';
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
  const variant = chooseVariant(attrs, m, n, k);
  const [gx, gy] = [Math.ceil(n / BLOCK[variant].cols), Math.ceil(m / BLOCK[variant].rows)];
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
    ctx.dispatch('matmul', matmulSpec(variant), p, [A.buffer, B.buffer, result], [gx, gy, chunk]);
  }
  return result;
}

export function matmulVariants(): KernelSpec[] {
  return [matmulSpec('rows'), matmulSpec('rows-at'), matmulSpec('dot'), matmulSpec('generic')];
}
