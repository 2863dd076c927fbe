// The matmul of the 'gpu' kernel profile: C tiles computed through workgroup memory.
// A real GPU reaches its arithmetic throughput only when each value fetched from
// global memory feeds many multiply-adds; here a workgroup stages a k-slice of A's
// tile rows and B's tile columns in workgroup memory once (vec4 loads where the
// layout allows), and each invocation then multiplies them into a register block of
// C, so every value loaded from global memory feeds 64 multiply-adds (16
// invocations x 4) instead of the 4-8 of the barrier-free kernels. The
// workgroup barriers this needs are slow on software adapters (llvmpipe suspends
// and resumes every invocation at each one), which keep the barrier-free kernels
// of matmul.ts (see KernelProfile); there this kernel also takes a second or more
// to compile (the unrolled k-slice loop), so the layouts below are kept few.
//
// Geometry: 16 x 16 invocations, each keeping a 4 x 4 block of C, cover a 64 x 64
// tile of C; k advances in slices of 16. Workgroup memory: two [16 k][64] tiles,
// 8 KiB, inside the 16 KiB every WebGPU device offers. 64 x 64 (not larger) keeps
// enough workgroups for a device's cores at moderate sizes: a 1024 x 1024 product
// has 256 tiles.
//
// WGSL requires workgroupBarrier() in uniform control flow, so nothing returns
// early: out-of-range elements of a tile load as 0 (so they add nothing) and stores
// outside C are skipped. Workgroup memory is only written as whole vec4s, each by
// one invocation (a component write may rewrite the whole vector).

/** Invocations per workgroup side. */
export const TILED_THREADS = 16;
/** Rows and columns of C each invocation accumulates. */
export const TILED_BLOCK = 4;
/** Rows (and columns) of C one workgroup covers: 16 invocations x 4. */
export const TILED_TILE = TILED_THREADS * TILED_BLOCK;
/** k steps staged in workgroup memory per barrier pair. */
export const TILED_K_SLICE = 16;
/** Workgroup memory the tiled kernel declares. */
export const TILED_WORKGROUP_BYTES = 2 * TILED_K_SLICE * TILED_TILE * 4;

/** vec4 quads across a tile's 64 rows (or columns). */
const QUADS = TILED_TILE / 4;

/**
 * How one operand's tile is read from global memory. 'lane' means the operand's
 * contiguous axis is the tile's row (A) or column (B) axis, 'k' that it is the
 * reduction axis; with `vec4` the contiguous axis is a multiple of 4 long and moves
 * as vec4, otherwise elements are read one by one through strides, in the order
 * that keeps neighbouring invocations on neighbouring addresses.
 */
export interface TileLoad {
  readonly contiguous: 'lane' | 'k';
  readonly vec4: boolean;
}

export interface TiledMatmulLayout {
  readonly a: TileLoad;
  readonly b: TileLoad;
  /** A [n] bias row is added to every row of C when storing it. */
  readonly bias: boolean;
}

export function tileLoadName(load: TileLoad): string {
  return `${load.contiguous}${load.vec4 ? '4' : '1'}`;
}

/** The layout for an operand whose tile axis (rows of A, columns of B) has `lanes` elements. */
export function tileLoad(contiguousIsK: boolean, lanes: number, k: number): TileLoad {
  return contiguousIsK ? { contiguous: 'k', vec4: k % 4 === 0 } : { contiguous: 'lane', vec4: lanes % 4 === 0 };
}

/** Names the WGSL of one operand uses (see loadTileWgsl). */
interface Operand {
  /** Storage array and workgroup tile. */
  readonly array: string;
  readonly tile: string;
  /** Extent of the tile axis (m or n) and the first row/column of this workgroup's tile. */
  readonly lanes: string;
  readonly lane0: string;
  /** Element (lane, p) sits at base + lane * laneStride + p * kStride. */
  readonly base: string;
  readonly laneStride: string;
  readonly kStride: string;
}

const A_OPERAND: Operand = { array: 'a', tile: 'tile_a', lanes: 'm', lane0: 'tile_row0', base: 'a_base', laneStride: 'a_row', kStride: 'a_col' };
const B_OPERAND: Operand = { array: 'b', tile: 'tile_b', lanes: 'n', lane0: 'tile_col0', base: 'b_base', laneStride: 'b_col', kStride: 'b_row' };

/**
 * Statements that fill `tile` ([16 k][16 quads] of vec4: the lanes 4q..4q+3 of step kk
 * at [kk * 16 + q]) with the operand's k-slice starting at p0. Every write is a whole
 * vec4 from one invocation: WGSL lets a write to one component of a vector touch the
 * whole vector, so invocations must not share a vec4 in workgroup memory.
 *   lane4  (kk, q) per invocation: one vec4 load along the lanes;
 *   lane1, k1  (kk, q) per invocation: 4 scalar loads through strides, invocations
 *          ordered along the contiguous axis (lanes, or k) for coalescing;
 *   k4     a 4 x 4 block (quad q, steps 4g..4g+3) for each of the first 64 invocations:
 *          4 vec4 loads along k, transposed in registers.
 */
function loadTileWgsl(x: Operand, load: TileLoad): string {
  const inRange = (r: string) => `${x.lane0} + 4u * q + ${r} < ${x.lanes}`;
  const element = (r: string, step: string) => `${x.base} + (${x.lane0} + 4u * q + ${r}) * ${x.laneStride} + (p0 + ${step}) * ${x.kStride}`;
  const lanes = [0, 1, 2, 3];
  if (load.vec4 && load.contiguous === 'k') {
    const blocks = QUADS * (TILED_K_SLICE / 4);
    return [
      `    if (li < ${blocks}u) {`,
      `      let g = li / ${QUADS}u;`,
      `      let q = li % ${QUADS}u;`,
      ...lanes.map((r) => `      var v${r} = vec4<f32>(0.0);`),
      // k % 4 == 0: the 4 steps are all inside k or all outside.
      `      if (p0 + 4u * g < k) {`,
      ...lanes.map((r) => `        if (${inRange(`${r}u`)}) { v${r} = ${x.array}[(${element(`${r}u`, '4u * g')}) / 4u]; }`),
      `      }`,
      ...lanes.map((j) => `      ${x.tile}[(4u * g + ${j}u) * ${QUADS}u + q] = vec4<f32>(v0[${j}], v1[${j}], v2[${j}], v3[${j}]);`),
      `    }`,
    ].join('\n');
  }
  // One (kk, q) pair per invocation: 16 steps x 16 quads = 256.
  const order = load.contiguous === 'lane' ? [`let kk = li / ${QUADS}u;`, `let q = li % ${QUADS}u;`] : [`let q = li / ${TILED_K_SLICE}u;`, `let kk = li % ${TILED_K_SLICE}u;`];
  const fill = load.vec4
    ? [`      if (${inRange('0u')} && p0 + kk < k) { v = ${x.array}[(${element('0u', 'kk')}) / 4u]; }`]
    : [`      if (p0 + kk < k) {`, ...lanes.map((r) => `        if (${inRange(`${r}u`)}) { v[${r}] = ${x.array}[${element(`${r}u`, 'kk')}]; }`), `      }`];
  return [
    `    {`,
    ...order.map((line) => `      ${line}`),
    `      var v = vec4<f32>(0.0);`,
    ...fill,
    `      ${x.tile}[kk * ${QUADS}u + q] = v;`,
    `    }`,
  ].join('\n');
}

/**
 * Stores the invocation's 4 x 4 block (rows c0..c3) at C(row, col), clipped to m x n,
 * plus the bias. Scalar stores whatever n is: C is written once per k-loop, a few
 * percent of the traffic at most, and one store layout halves the programs to build.
 */
function storeWgsl(layout: TiledMatmulLayout): string {
  const rows = Array.from({ length: TILED_BLOCK }, (_, i) => i);
  const cols = [0, 1, 2, 3];
  return [
    `  let bias_v = ${layout.bias ? `vec4<f32>(${cols.map((j) => `bias[min(col + ${j}u, n - 1u)]`).join(', ')})` : 'vec4<f32>(0.0)'};`,
    ...rows.map((i) =>
      [
        `  if (row + ${i}u < m) {`,
        `    let r = c${i} + bias_v;`,
        `    let base = out_base + (row + ${i}u) * n + col;`,
        ...cols.map((j) => `    if (col + ${j}u < n) { c[base + ${j}u] = r[${j}]; }`),
        `  }`,
      ].join('\n'),
    ),
  ].join('\n');
}

/**
 * The tiled kernel's body after `prologue`, which declares the bindings (a, b, c and
 * bias, typed for `layout`), opens `main` with arguments `wg`, `lid` and `li`, and
 * defines m, n, k, out_base, a_base, b_base and the element strides a_row, a_col,
 * b_row, b_col.
 */
export function tiledMatmulWgsl(prologue: string, layout: TiledMatmulLayout): string {
  const rows = Array.from({ length: TILED_BLOCK }, (_, i) => i);
  const comps = ['x', 'y', 'z', 'w'];
  return `// The current k-slice, [16 k][64 lanes] each: A(tile_row0 + i, p0 + kk) at
// tile_a[kk * ${QUADS} + i / 4][i % 4], B(p0 + kk, tile_col0 + j) at tile_b[kk * ${QUADS} + j / 4][j % 4].
var<workgroup> tile_a: array<vec4<f32>, ${TILED_K_SLICE * QUADS}>;
var<workgroup> tile_b: array<vec4<f32>, ${TILED_K_SLICE * QUADS}>;
${prologue}
  let tile_row0 = wg.y * ${TILED_TILE}u;
  let tile_col0 = wg.x * ${TILED_TILE}u;
  // This invocation's block of C: rows row..row+3, columns col..col+3.
  let row = tile_row0 + lid.y * 4u;
  let col = tile_col0 + lid.x * 4u;
${rows.map((i) => `  var c${i} = vec4<f32>(0.0);`).join('\n')}
  let slices = (k + ${TILED_K_SLICE - 1}u) / ${TILED_K_SLICE}u;
  for (var slice = 0u; slice < slices; slice++) {
    let p0 = slice * ${TILED_K_SLICE}u;
${loadTileWgsl(A_OPERAND, layout.a)}
${loadTileWgsl(B_OPERAND, layout.b)}
    workgroupBarrier();
    for (var kk = 0u; kk < ${TILED_K_SLICE}u; kk++) {
      let av = tile_a[kk * ${QUADS}u + lid.y];
      let bv = tile_b[kk * ${QUADS}u + lid.x];
${rows.map((i) => `      c${i} += av.${comps[i]} * bv;`).join('\n')}
    }
    // The next slice overwrites the tiles only after every invocation has read them.
    workgroupBarrier();
  }
${storeWgsl(layout)}
}
`;
}
