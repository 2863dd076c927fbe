// Batched matmul with broadcast batch dims and transposed operands, C = A B (+ bias).
// Two families, chosen by the kernel profile (KernelProfile):
//  - 'gpu': the shared-memory tiled kernel of matmul-tiled.ts, what reaches a real
//    GPU's throughput, on 64 x 64 or (large products) 128 x 128 tiles of C;
//  - 'software': register-blocked kernels without workgroup memory: each invocation
//    keeps a block of C in registers and streams its rows of A and columns of B from
//    global memory. No barrier per k-step: on software GPUs (llvmpipe) barriers cost
//    more than the reloads they save (see design/environment.md).
// Operands are read through strides (or as vec4 where the layout allows), so
// transA/transB and broadcast batch dims never need a copy. The optional bias ([n],
// added to every row of C) is one more binding, added as C is stored: one dispatch.

import { matmulShapes, type OpAttrs, type TensorMeta } from '../../ops.js';
import { broadcastStrides, sizeOf } from '../../shape.js';
import { kernelSpec, Params, type GpuInfo, type GpuTensorBuffer, type KernelContext, type KernelSpec, type StorageAccess } from './kernel.js';
import { tiledMatmulWgsl, tileLoad, tileLoadName, TILED_128, TILED_64, TILED_THREADS, type TiledGeometry, type TiledMatmulLayout } from './matmul-tiled.js';
import { assertRank, coalesce } from './strided-layout.js';
import { MAX_RANK, PARAMS_WGSL, storage, unravelWgsl } from './wgsl.js';

/** Invocations per workgroup side of the software kernels (8 x 8). */
export const MATMUL_THREADS = 8;

/**
 * The software profile's programs, chosen per call by layout:
 *   rows     B rows contiguous (no transB) and n % 4 == 0: B and C move as vec4, each
 *            invocation keeps a 4 x 8 block (the fastest on llvmpipe by ~1.5-2x);
 *   rows-at  the same for A^T B with m % 4 == 0 (weight gradients): A moves as vec4 too;
 *   dot      A x B^T with k % 4 == 0: both operands move as vec4 along k, 4 x 4 blocks
 *            of dot products (the backward pass's dX = dY W^T, attention's Q K^T);
 *   generic  anything else: scalar loads through strides, 4 x 4 blocks.
 */
export type MatmulVariant = 'rows' | 'rows-at' | 'dot' | 'generic';

/** Rows and columns of C each software variant's workgroup covers. */
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

/** WGSL element types of the bindings: a, b, c, and the bias (null: no bias binding). */
interface BindingTypes {
  readonly a: string;
  readonly b: string;
  readonly c: string;
  readonly bias: string | null;
}

/** Storage accesses of bindings 1..: a, b, c, then the bias when there is one. */
function storageAccess(bias: boolean): StorageAccess[] {
  return bias ? ['read', 'read', 'read_write', 'read'] : ['read', 'read', 'read_write'];
}

/**
 * Bindings, the entry point with `threads` x `threads` invocations, and the values every
 * variant starts from: m, n, k; this matrix's batch index and the offsets of its A, B
 * (a_base, b_base) and C (out_base); and the strides of A(i, p) and B(p, j) within one matrix.
 */
function prologue(types: BindingTypes, threads: number): string {
  return `${PARAMS_WGSL}
${storage(1, 'a', types.a, 'read')}
${storage(2, 'b', types.b, 'read')}
${storage(3, 'c', types.c, 'read_write')}
${types.bias ? storage(4, 'bias', types.bias, 'read') : ''}
@compute @workgroup_size(${threads}, ${threads})
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let m = pu(${M}u);
  let n = pu(${N}u);
  let k = pu(${K}u);
  let batch = wg.z + pu(${BATCH_OFFSET}u);
  ${unravelWgsl('batch', BATCH_RANK, BATCH_SHAPE, ['a_base', 'b_base'], [A_BATCH, B_BATCH])}
  let a_row = pu(${A_ROW}u);
  let a_col = pu(${A_COL}u);
  let b_row = pu(${B_ROW}u);
  let b_col = pu(${B_COL}u);
  let out_base = batch * m * n;`;
}

/** The software variants' start: rows row0..row0+3 of C; blocks wholly past m return at once. */
function softwarePrologue(types: BindingTypes): string {
  return `${prologue(types, MATMUL_THREADS)}
  let row0 = (wg.y * ${MATMUL_THREADS}u + lid.y) * 4u;
  if (row0 >= m) { return; }
  // Edge blocks read clamped rows/columns (valid memory) and skip writing them.
  let r1 = min(row0 + 1u, m - 1u);
  let r2 = min(row0 + 2u, m - 1u);
  let r3 = min(row0 + 3u, m - 1u);`;
}

/** Stores a 4x4 tile (rows c0..c3) of a scalar C at row0/col0 (col0 < n), clipped to m x n, plus the bias. */
function store4x4Wgsl(bias: boolean): string {
  const biasRow = bias
    ? 'vec4<f32>(bias[col0], bias[min(col0 + 1u, n - 1u)], bias[min(col0 + 2u, n - 1u)], bias[min(col0 + 3u, n - 1u)])'
    : 'vec4<f32>(0.0)';
  return `let rows = array<vec4<f32>, 4>(c0, c1, c2, c3);
  let bias_v = ${biasRow};
  for (var i = 0u; i < 4u; i++) {
    if (row0 + i >= m) { break; }
    let r = rows[i] + bias_v;
    let base = out_base + (row0 + i) * n + col0;
    c[base] = r.x;
    if (col0 + 1u < n) { c[base + 1u] = r.y; }
    if (col0 + 2u < n) { c[base + 2u] = r.z; }
    if (col0 + 3u < n) { c[base + 3u] = r.w; }
  }`;
}

function genericWgsl(bias: boolean): string {
  return `${softwarePrologue({ a: 'f32', b: 'f32', c: 'f32', bias: bias ? 'f32' : null })}
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
  ${store4x4Wgsl(bias)}
}
`;
}

// B (p, 4j..4j+3) is vec4 number (b_base + p * n) / 4 + j; C likewise. With
// \`transposedA\` (transA and m % 4 == 0), A's 4 rows at step p are one vec4 too.
// The bias (n % 4 == 0 here) moves as vec4 like C.
function rowsWgsl(transposedA: boolean, bias: boolean): string {
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
  return `${softwarePrologue({ a: transposedA ? 'vec4<f32>' : 'f32', b: 'vec4<f32>', c: 'vec4<f32>', bias: bias ? 'vec4<f32>' : null })}
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
  let bias_x = ${bias ? 'bias[j0]' : 'vec4<f32>(0.0)'};
  let bias_y = ${bias ? 'bias[j1]' : 'vec4<f32>(0.0)'};
  for (var i = 0u; i < 4u; i++) {
    if (row0 + i >= m) { break; }
    let base = (out_base + (row0 + i) * n) / 4u;
    c[base + j0] = xs[i] + bias_x;
    if (j0 + 1u < n4) { c[base + j0 + 1u] = ys[i] + bias_y; }
  }
}
`;
}

// A (i, 4q..4q+3) is vec4 number (a_base + i * k) / 4 + q; B^T (j, 4q..4q+3) likewise.
function dotWgsl(bias: boolean): string {
  return `${softwarePrologue({ a: 'vec4<f32>', b: 'vec4<f32>', c: 'f32', bias: bias ? 'f32' : null })}
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
  ${store4x4Wgsl(bias)}
}
`;
}


const SOURCES: Record<MatmulVariant, (bias: boolean) => string> = {
  rows: (bias) => rowsWgsl(false, bias),
  'rows-at': (bias) => rowsWgsl(true, bias),
  dot: dotWgsl,
  generic: genericWgsl,
};

/** A software variant, with or without the bias binding. */
export function matmulSpec(variant: MatmulVariant, bias = false): KernelSpec {
  return kernelSpec(`matmul:${variant}${bias ? ':bias' : ''}`, () => ({ code: SOURCES[variant](bias), storage: storageAccess(bias) }));
}

/** The tiled kernel for one geometry and operand layout; the key names every choice that changes its source. */
export function tiledMatmulSpec(layout: TiledMatmulLayout, geometry: TiledGeometry): KernelSpec {
  const key = `matmul:tiled${geometry.tile}:a-${tileLoadName(layout.a)}:b-${tileLoadName(layout.b)}${layout.bias ? ':bias' : ''}`;
  const vec = (v: boolean) => (v ? 'vec4<f32>' : 'f32');
  const types: BindingTypes = { a: vec(layout.a.vec4), b: vec(layout.b.vec4), c: 'f32', bias: layout.bias ? 'f32' : null };
  return kernelSpec(key, () => ({ code: tiledMatmulWgsl(prologue(types, TILED_THREADS), layout, geometry), storage: storageAccess(layout.bias) }));
}

function chooseVariant(attrs: OpAttrs['matmul'], m: number, n: number, k: number): MatmulVariant {
  if (!attrs.transB && n % 4 === 0) return attrs.transA && m % 4 === 0 ? 'rows-at' : 'rows';
  if (!attrs.transA && attrs.transB && k % 4 === 0) return 'dot';
  return 'generic';
}

/** How the tiled kernel reads A and B for this call, and whether it adds the bias. */
function tiledLayout(attrs: OpAttrs['matmul'], m: number, n: number, k: number): TiledMatmulLayout {
  // A is [m, k] (k contiguous) or, with transA, stored [k, m] (m contiguous); B is
  // [k, n] (n contiguous) or, with transB, stored [n, k] (k contiguous).
  return { a: tileLoad(!attrs.transA, m, k), b: tileLoad(attrs.transB, n, k), bias: attrs.bias === true };
}

/**
 * The tiled geometry for a product of `batch` [m, n] matrices, by ctx.matmulTile. 'auto'
 * takes 128 x 128 tiles only when they still make many workgroups: one such workgroup
 * (256 invocations of 64 accumulators each) takes a large share of a GPU core's
 * registers, so a core holds one or two, and with fewer workgroups than a large GPU
 * has cores (an H200 has 132) cores sit idle; 64 x 64 tiles make four times as many.
 * Hence at least 128 of them (a 1024 x 1024 product makes 64: it keeps 64 x 64 tiles),
 * and m, n >= 512 so the tiles are mostly full rather than edge.
 */
function tiledGeometryFor(ctx: KernelContext, m: number, n: number, batch: number): TiledGeometry {
  const tile = ctx.matmulTile;
  if (tile === 64) return TILED_64;
  if (tile === 128) return TILED_128;
  if (tile !== 'auto') throw new Error(`matmul: matmulTile must be 'auto', 64 or 128, got ${JSON.stringify(tile)}`);
  const workgroups = Math.ceil(m / 128) * Math.ceil(n / 128) * batch;
  return m >= 512 && n >= 512 && workgroups >= 128 ? TILED_128 : TILED_64;
}

/** The program and the C block one workgroup covers for this call. */
function choose(ctx: KernelContext, attrs: OpAttrs['matmul'], m: number, n: number, k: number, batch: number): { spec: KernelSpec; rows: number; cols: number } {
  if (ctx.profile === 'gpu') {
    const geometry = tiledGeometryFor(ctx, m, n, batch);
    if (geometry.workgroupBytes <= ctx.maxWorkgroupStorageBytes) {
      return { spec: tiledMatmulSpec(tiledLayout(attrs, m, n, k), geometry), rows: geometry.tile, cols: geometry.tile };
    }
  }
  const variant = chooseVariant(attrs, m, n, k);
  return { spec: matmulSpec(variant, attrs.bias === true), ...BLOCK[variant] };
}

/** C = A B, or A B + bias (inputs[2], [n], added to every row) with attrs.bias: one dispatch per batch chunk. */
export function runMatmul(ctx: KernelContext, inputs: readonly GpuInfo[], attrs: OpAttrs['matmul'], out: TensorMeta): GpuTensorBuffer {
  const [A, B, bias] = inputs as [GpuInfo, GpuInfo, GpuInfo?];
  if (attrs.bias && !bias) throw new Error('matmul: attrs.bias is set but no bias tensor was given (expected a third input of shape [n])');
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
  const { spec, rows, cols } = choose(ctx, attrs, m, n, k, total);
  const [gx, gy] = [Math.ceil(n / cols), Math.ceil(m / rows)];
  const zLimit = ctx.maxWorkgroupsPerDimension;
  if (gx > zLimit || gy > zLimit) {
    throw new Error(`matmul: [${m}, ${k}] x [${k}, ${n}] needs ${gy} x ${gx} workgroups, over this adapter's maxComputeWorkgroupsPerDimension (${zLimit})`);
  }
  const buffers = bias && attrs.bias ? [A.buffer, B.buffer, result, bias.buffer] : [A.buffer, B.buffer, result];
  // The batch runs along z; past the per-dimension limit it is split over several dispatches.
  for (let offset = 0; offset < total; offset += zLimit) {
    const chunk = Math.min(zLimit, total - offset);
    const p = new Params();
    p.words.set(params.words);
    p.u32(BATCH_OFFSET, offset);
    ctx.dispatch('matmul', spec, p, buffers, [gx, gy, chunk]);
  }
  return result;
}

/** Every matmul program runMatmul can choose: the software variants and the tiled layouts in both geometries, each with and without the bias. */
export function matmulVariants(): KernelSpec[] {
  const variants: MatmulVariant[] = ['rows', 'rows-at', 'dot', 'generic'];
  const tiled = new Map<string, KernelSpec>();
  // The layout depends on the transposes and on which of m, n, k are multiples of 4.
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      for (const bias of [false, true]) {
        for (const [m, n, k] of [4, 5].flatMap((m) => [4, 5].flatMap((n) => [4, 5].map((k) => [m, n, k] as const)))) {
          for (const geometry of [TILED_64, TILED_128]) {
            const spec = tiledMatmulSpec(tiledLayout({ transA, transB, bias }, m, n, k), geometry);
            tiled.set(spec.key, spec);
          }
        }
      }
    }
  }
  return [false, true].flatMap((bias) => variants.map((v) => matmulSpec(v, bias))).concat([...tiled.values()]);
}
