// The matmul of the 'gpu' kernel profile: C tiles computed through workgroup memory.
// A real GPU reaches its arithmetic throughput only when each value fetched from
// global memory feeds many multiply-adds; here a workgroup stages a k-slice of A's
// tile rows and B's tile columns in workgroup memory once (vec4 loads where the
// layout allows), and each invocation then multiplies them into a register block of
// C, so every value loaded from global memory feeds 64 multiply-adds (16
// invocations x 4) instead of the 4-8 of the barrier-free kernels. The
// workgroup barriers this needs are slow on software adapters (llvmpipe runs a
// workgroup's invocations as CPU loops), which keep the barrier-free kernels of
// matmul.ts (see KernelProfile).
//
// Geometry: 16 x 16 invocations, each keeping a 4 x 4 block of C, cover a 64 x 64
// tile of C; k advances in slices of 16. Workgroup memory: two [16 k][64] tiles,
// 8 KiB, inside the 16 KiB every WebGPU device offers. 64 x 64 (not larger) keeps
// enough workgroups for a device's cores at moderate sizes: a 1024 x 1024 product
// has 256 tiles.
//
// WGSL requires workgroupBarrier() in uniform control flow, so nothing returns
// early: out-of-range elements of a tile load as 0 (so they add nothing) and stores
// outside C are skipped.

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

const INVOCATIONS = TILED_THREADS * TILED_THREADS;
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
  /** C moves as vec4 (n % 4 == 0). */
  readonly cVec4: boolean;
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
 * Statements that fill `tile` ([16 k][16 quads] of vec4: element (lane i, step kk)
 * at [kk * 16 + i / 4][i % 4]) with the operand's k-slice starting at p0. Each of the
 * 256 invocations loads `units / 256` vec4s or scalars, unit u = li + 256 s.
 */
function loadTileWgsl(x: Operand, load: TileLoad): string {
  const units = (TILED_TILE * TILED_K_SLICE) / (load.vec4 ? 4 : 1);
  const lines: string[] = [];
  for (let s = 0; s < units / INVOCATIONS; s++) {
    const u = `li + ${s * INVOCATIONS}u`;
    // lane: the tile-axis index inside the tile; kk: the step inside the slice.
    let lane: string;
    let kk: string;
    if (load.vec4 && load.contiguous === 'lane') [kk, lane] = [`u / ${QUADS}u`, `(u % ${QUADS}u) * 4u`];
    else if (load.vec4) [lane, kk] = [`u / ${TILED_K_SLICE / 4}u`, `(u % ${TILED_K_SLICE / 4}u) * 4u`];
    else if (load.contiguous === 'lane') [kk, lane] = [`u / ${TILED_TILE}u`, `u % ${TILED_TILE}u`];
    else [lane, kk] = [`u / ${TILED_K_SLICE}u`, `u % ${TILED_K_SLICE}u`];
    const address = `${x.base} + (${x.lane0} + i) * ${x.laneStride} + (p0 + kk) * ${x.kStride}`;
    const store =
      load.vec4 && load.contiguous === 'lane'
        ? [`    ${x.tile}[kk * ${QUADS}u + i / 4u] = v;`]
        : load.vec4
          ? [0, 1, 2, 3].map((j) => `    ${x.tile}[(kk + ${j}u) * ${QUADS}u + i / 4u][i % 4u] = v[${j}];`)
          : [`    ${x.tile}[kk * ${QUADS}u + i / 4u][i % 4u] = v;`];
    lines.push(
      `    {`,
      `      let u = ${u};`,
      `      let i = ${lane};`,
      `      let kk = ${kk};`,
      `      var v = ${load.vec4 ? 'vec4<f32>(0.0)' : '0.0'};`,
      // With vec4 loads the vec4 is either wholly inside the operand or wholly outside.
      `      if (${x.lane0} + i < ${x.lanes} && p0 + kk < k) { v = ${x.array}[${load.vec4 ? `(${address}) / 4u` : address}]; }`,
      ...store.map((line) => `  ${line}`),
      `    }`,
    );
  }
  return lines.join('\n');
}

/** Stores the invocation's 4 x 4 block (rows c0..c3) at C(row, col), clipped to m x n, plus the bias. */
function storeWgsl(layout: TiledMatmulLayout): string {
  const rows = Array.from({ length: TILED_BLOCK }, (_, i) => i);
  if (layout.cVec4) {
    // n % 4 == 0 and col % 4 == 0: the 4 columns are all inside C or all outside.
    return [
      `  if (col < n) {`,
      `    let bias_v = ${layout.bias ? 'bias[col / 4u]' : 'vec4<f32>(0.0)'};`,
      ...rows.map((i) => `    if (row + ${i}u < m) { c[(out_base + (row + ${i}u) * n + col) / 4u] = c${i} + bias_v; }`),
      `  }`,
    ].join('\n');
  }
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
