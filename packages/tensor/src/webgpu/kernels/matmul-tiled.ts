// The matmul of the 'gpu' kernel profile: C tiles computed through workgroup memory.
// A real GPU reaches its arithmetic throughput only when each value fetched from
// global memory feeds many multiply-adds; here a workgroup stages a k-slice of A's
// tile rows and B's tile columns in workgroup memory once (vec4 loads where the
// layout allows), and each invocation then multiplies them into a register block of
// C, so every value loaded from global memory feeds 64 or 128 multiply-adds (16
// invocations x the block) instead of the 4-8 of the barrier-free kernels. The
// workgroup barriers this needs are slow on software adapters (llvmpipe suspends
// and resumes every invocation at each one), which keep the barrier-free kernels
// of matmul.ts (see KernelProfile); there this kernel also takes a second or more
// to compile (the unrolled k-slice loop), so the layouts below are kept few.
//
// Two geometries (TiledGeometry), both 16 x 16 invocations in which every invocation
// loads one vec4 of each operand per k-slice (so the slice is 1024 / tile steps) and
// both with 8 KiB of workgroup memory, inside the 16 KiB every WebGPU device offers:
//   64:  4 x 4 of C per invocation, a 64 x 64 tile, k-slices of 16. Each k-step reads
//        8 floats from workgroup memory for 16 multiply-adds; many workgroups even at
//        moderate sizes (a 1024 x 1024 product has 256 tiles).
//   128: 8 x 8 of C per invocation, a 128 x 128 tile, k-slices of 8: 16 floats for 64
//        multiply-adds, half the workgroup-memory reads per multiply-add. That is the
//        64 geometry's limit on GPUs whose workgroup memory serves fewer floats per
//        clock than the cores do multiply-adds (an NVIDIA SM: 32 floats for 128 fp32
//        multiply-adds, so 8 per 16 caps the 64 geometry near half the peak; not
//        measured here). Needs large products to keep a GPU's cores busy (matmul.ts
//        chooses). An invocation's 8 rows (and 8 columns) are two groups of 4, 64
//        apart, so the 16 invocations along a workgroup row read 16 consecutive vec4s
//        in each group (no bank conflicts).
//
// WGSL requires workgroupBarrier() in uniform control flow, so nothing returns
// early: out-of-range elements of a tile load as 0 (so they add nothing) and stores
// outside C are skipped. Workgroup memory is only written as whole vec4s, each by
// one invocation (a component write may rewrite the whole vector).

/** Invocations per workgroup side. */
export const TILED_THREADS = 16;
/** Rows (and columns) of C one invocation's group of 4 is away from the next group: 16 invocations x 4. */
const GROUP_STRIDE = TILED_THREADS * 4;

/** The shape of one tiled program's work; see the header. */
export interface TiledGeometry {
  /** Rows (and columns) of C one workgroup covers. */
  readonly tile: 64 | 128;
  /** Rows (and columns) of C each invocation accumulates: tile / 16, in groups of 4. */
  readonly block: number;
  /** k steps staged in workgroup memory per barrier pair. */
  readonly kSlice: number;
  /** Workgroup memory the program declares. */
  readonly workgroupBytes: number;
}

function tiledGeometry(tile: 64 | 128): TiledGeometry {
  const block = tile / TILED_THREADS;
  // One vec4 of each operand per invocation and slice: kSlice * tile / 4 = 16 * 16.
  const kSlice = (TILED_THREADS * TILED_THREADS * 4) / tile;
  return { tile, block, kSlice, workgroupBytes: 2 * kSlice * tile * 4 };
}

export const TILED_64 = tiledGeometry(64);
export const TILED_128 = tiledGeometry(128);

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
 * Statements that fill `tile` ([kSlice k][tile / 4 quads] of vec4: the lanes 4q..4q+3
 * of step kk at [kk * quads + q]) with the operand's k-slice starting at p0. Every
 * write is a whole vec4 from one invocation: WGSL lets a write to one component of a
 * vector touch the whole vector, so invocations must not share a vec4 in workgroup
 * memory. The slice is 256 vec4s in either geometry, one per invocation:
 *   lane4  (kk, q) per invocation: one vec4 load along the lanes;
 *   lane1, k1  (kk, q) per invocation: 4 scalar loads through strides, invocations
 *          ordered along the contiguous axis (lanes, or k) for coalescing;
 *   k4     a 4 x 4 block (quad q, steps 4g..4g+3) for each of the first 64 invocations:
 *          4 vec4 loads along k, transposed in registers.
 */
function loadTileWgsl(x: Operand, load: TileLoad, geometry: TiledGeometry): string {
  const quads = geometry.tile / 4;
  const inRange = (r: string) => `${x.lane0} + 4u * q + ${r} < ${x.lanes}`;
  const element = (r: string, step: string) => `${x.base} + (${x.lane0} + 4u * q + ${r}) * ${x.laneStride} + (p0 + ${step}) * ${x.kStride}`;
  const lanes = [0, 1, 2, 3];
  if (load.vec4 && load.contiguous === 'k') {
    const blocks = quads * (geometry.kSlice / 4);
    return [
      `    if (li < ${blocks}u) {`,
      `      let g = li / ${quads}u;`,
      `      let q = li % ${quads}u;`,
      ...lanes.map((r) => `      var v${r} = vec4<f32>(0.0);`),
      // k % 4 == 0: the 4 steps are all inside k or all outside.
      `      if (p0 + 4u * g < k) {`,
      ...lanes.map((r) => `        if (${inRange(`${r}u`)}) { v${r} = ${x.array}[(${element(`${r}u`, '4u * g')}) / 4u]; }`),
      `      }`,
      ...lanes.map((j) => `      ${x.tile}[(4u * g + ${j}u) * ${quads}u + q] = vec4<f32>(v0[${j}], v1[${j}], v2[${j}], v3[${j}]);`),
      `    }`,
    ].join('\n');
  }
  // One (kk, q) pair per invocation: kSlice steps x tile / 4 quads = 256.
  const order = load.contiguous === 'lane' ? [`let kk = li / ${quads}u;`, `let q = li % ${quads}u;`] : [`let q = li / ${geometry.kSlice}u;`, `let kk = li % ${geometry.kSlice}u;`];
  const fill = load.vec4
    ? [`      if (${inRange('0u')} && p0 + kk < k) { v = ${x.array}[(${element('0u', 'kk')}) / 4u]; }`]
    : [`      if (p0 + kk < k) {`, ...lanes.map((r) => `        if (${inRange(`${r}u`)}) { v[${r}] = ${x.array}[${element(`${r}u`, 'kk')}]; }`), `      }`];
  return [
    `    {`,
    ...order.map((line) => `      ${line}`),
    `      var v = vec4<f32>(0.0);`,
    ...fill,
    `      ${x.tile}[kk * ${quads}u + q] = v;`,
    `    }`,
  ].join('\n');
}

/**
 * An invocation's block: rows row + rowOffset(i) for i < block, and column groups
 * col + 64 h for h < block / 4 (4 columns each); its accumulators are c{i}_{h}.
 */
function blockOf(geometry: TiledGeometry) {
  const rows = Array.from({ length: geometry.block }, (_, i) => i);
  const groups = Array.from({ length: geometry.block / 4 }, (_, h) => h);
  const rowOffset = (i: number) => Math.floor(i / 4) * GROUP_STRIDE + (i % 4);
  return { rows, groups, rowOffset };
}

/**
 * Stores the invocation's block at C(row, col), clipped to m x n, plus the bias.
 * Scalar stores whatever n is: C is written once per k-loop, a few percent of the
 * traffic at most, and one store layout halves the programs to build.
 */
function storeWgsl(layout: TiledMatmulLayout, geometry: TiledGeometry): string {
  const { rows, groups, rowOffset } = blockOf(geometry);
  const cols = [0, 1, 2, 3];
  return [
    ...groups.map((h) => {
      const col = `col${h}`;
      const bias = layout.bias ? `vec4<f32>(${cols.map((j) => `bias[min(${col} + ${j}u, n - 1u)]`).join(', ')})` : 'vec4<f32>(0.0)';
      return `  let ${col} = col + ${h * GROUP_STRIDE}u;\n  let bias${h} = ${bias};`;
    }),
    ...rows.map((i) =>
      [
        `  if (row + ${rowOffset(i)}u < m) {`,
        `    let base = out_base + (row + ${rowOffset(i)}u) * n;`,
        ...groups.flatMap((h) => [
          `    let r${h} = c${i}_${h} + bias${h};`,
          ...cols.map((j) => `    if (col${h} + ${j}u < n) { c[base + col${h} + ${j}u] = r${h}[${j}]; }`),
        ]),
        `  }`,
      ].join('\n'),
    ),
  ].join('\n');
}

/**
 * The tiled kernel's body after `prologue`, which declares the bindings (a, b, c and
 * bias, typed for `layout`), opens `main` with arguments `wg`, `lid` and `li` (and
 * TILED_THREADS x TILED_THREADS invocations), and defines m, n, k, out_base, a_base,
 * b_base and the element strides a_row, a_col, b_row, b_col.
 */
export function tiledMatmulWgsl(prologue: string, layout: TiledMatmulLayout, geometry: TiledGeometry): string {
  const { tile, kSlice } = geometry;
  const quads = tile / 4;
  const { rows, groups } = blockOf(geometry);
  const comps = ['x', 'y', 'z', 'w'];
  // Quad g of this invocation's rows (A) or columns (B) in the slice's step kk.
  const quad = (tileName: string, id: string, g: number) => `${tileName}[kk * ${quads}u + ${id}${g > 0 ? ` + ${g * TILED_THREADS}u` : ''}]`;
  return `// The current k-slice, [${kSlice} k][${tile} lanes] each: A(tile_row0 + i, p0 + kk) at
// tile_a[kk * ${quads} + i / 4][i % 4], B(p0 + kk, tile_col0 + j) at tile_b[kk * ${quads} + j / 4][j % 4].
var<workgroup> tile_a: array<vec4<f32>, ${kSlice * quads}>;
var<workgroup> tile_b: array<vec4<f32>, ${kSlice * quads}>;
${prologue}
  let tile_row0 = wg.y * ${tile}u;
  let tile_col0 = wg.x * ${tile}u;
  // This invocation's block of C: ${groups.length === 1 ? 'rows row..row+3, columns col..col+3' : `rows row..row+3 and row+${GROUP_STRIDE}..row+${GROUP_STRIDE + 3}, columns likewise`}.
  let row = tile_row0 + lid.y * 4u;
  let col = tile_col0 + lid.x * 4u;
${rows.flatMap((i) => groups.map((h) => `  var c${i}_${h} = vec4<f32>(0.0);`)).join('\n')}
  let slices = (k + ${kSlice - 1}u) / ${kSlice}u;
  for (var slice = 0u; slice < slices; slice++) {
    let p0 = slice * ${kSlice}u;
${loadTileWgsl(A_OPERAND, layout.a, geometry)}
${loadTileWgsl(B_OPERAND, layout.b, geometry)}
    workgroupBarrier();
    for (var kk = 0u; kk < ${kSlice}u; kk++) {
${groups.map((g) => `      let a${g} = ${quad('tile_a', 'lid.y', g)};`).join('\n')}
${groups.map((h) => `      let b${h} = ${quad('tile_b', 'lid.x', h)};`).join('\n')}
${rows.flatMap((i) => groups.map((h) => `      c${i}_${h} += a${Math.floor(i / 4)}.${comps[i % 4]} * b${h};`)).join('\n')}
    }
    // The next slice overwrites the tiles only after every invocation has read them.
    workgroupBarrier();
  }
${storeWgsl(layout, geometry)}
}
`;
}
