// Philox4x32-10 in WGSL with the same 32-bit arithmetic as src/philox.ts (the high
// half of each 32x32 product from 16-bit pieces), so element i gets the bits the
// CPU backend gives it: word i % 4 of the block with counter offset + floor(i / 4).
// Uniforms are bit-identical to the CPU's; normals use the same Box-Muller pairs
// but evaluate log/sqrt/cos/sin in float32, so they agree to ~1e-5 (not bit for bit).

import type { RandomAttrs, TensorMeta } from '../../ops.js';
import { sizeOf } from '../../shape.js';
import { kernelSpec, Params, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { GLOBAL_INDEX, MAIN_ARGS, PARAMS_WGSL, storage, WORKGROUP_SIZE } from './wgsl.js';

const SIZE = 0;
const BLOCKS = 1;
const KEY0 = 2;
const KEY1 = 3;
const OFFSET_LO = 4;
const OFFSET_HI = 5;

const PHILOX_WGSL = `
fn mulhi32(a: u32, b: u32) -> u32 {
  let a_lo = a & 0xffffu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xffffu;
  let b_hi = b >> 16u;
  let lo_lo = a_lo * b_lo;
  let hi_lo = a_hi * b_lo;
  let lo_hi = a_lo * b_hi;
  let hi_hi = a_hi * b_hi;
  let cross = (lo_lo >> 16u) + (hi_lo & 0xffffu) + (lo_hi & 0xffffu);
  return hi_hi + (hi_lo >> 16u) + (lo_hi >> 16u) + (cross >> 16u);
}
fn philox(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = counter;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    let hi0 = mulhi32(0xd2511f53u, c.x);
    let lo0 = 0xd2511f53u * c.x;
    let hi1 = mulhi32(0xcd9e8d57u, c.z);
    let lo1 = 0xcd9e8d57u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k = k + vec2<u32>(0x9e3779b9u, 0xbb67ae85u);
  }
  return c;
}
fn to_uniform(bits: u32) -> f32 { return f32(bits >> 8u) * 5.9604644775390625e-8; }
fn to_uniform_open(bits: u32) -> f32 { return f32((bits >> 8u) + 1u) * 5.9604644775390625e-8; }
`;

export type RandomKind = 'uniform' | 'normal';

export function randomSpec(kind: RandomKind): KernelSpec {
  const values =
    kind === 'uniform'
      ? 'let v = vec4<f32>(to_uniform(w.x), to_uniform(w.y), to_uniform(w.z), to_uniform(w.w));'
      : `let r0 = sqrt(-2.0 * log(to_uniform_open(w.x)));
  let r1 = sqrt(-2.0 * log(to_uniform_open(w.z)));
  // cos/sin of 2*pi*u evaluated at an angle in [-pi, pi), where float32 sin/cos are most exact:
  // cos(t) = -cos(t - pi), sin(t) = -sin(t - pi).
  let t0 = 6.283185307179586 * to_uniform(w.y) - 3.141592653589793;
  let t1 = 6.283185307179586 * to_uniform(w.w) - 3.141592653589793;
  let v = vec4<f32>(-r0 * cos(t0), -r0 * sin(t0), -r1 * cos(t1), -r1 * sin(t1));`;
  return kernelSpec(`random:${kind}`, () => ({
    code: `${PARAMS_WGSL}
${PHILOX_WGSL}
${storage(1, 'out', 'f32', 'read_write')}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  let block = ${GLOBAL_INDEX};
  if (block >= pu(${BLOCKS}u)) { return; }
  // 64-bit block counter offset + block, split into two words.
  let lo = pu(${OFFSET_LO}u) + block;
  let hi = pu(${OFFSET_HI}u) + select(0u, 1u, lo < block);
  let w = philox(vec4<u32>(lo, hi, 0u, 0u), vec2<u32>(pu(${KEY0}u), pu(${KEY1}u)));
  ${values}
  let first = block * 4u;
  let size = pu(${SIZE}u);
  for (var j = 0u; j < 4u; j++) {
    if (first + j < size) { out[first + j] = v[j]; }
  }
}
`,
    storage: ['read_write'],
  }));
}

export function runRandom(ctx: KernelContext, kind: RandomKind, attrs: RandomAttrs, out: TensorMeta): GpuTensorBuffer {
  const op = kind === 'uniform' ? 'randomUniform' : 'randomNormal';
  const result = ctx.allocate(op, out);
  const size = sizeOf(attrs.shape);
  if (size === 0) return result;
  const blocks = Math.ceil(size / 4);
  const params = new Params()
    .u32(SIZE, size)
    .u32(BLOCKS, blocks)
    .u32(KEY0, attrs.key[0])
    .u32(KEY1, attrs.key[1])
    .u32(OFFSET_LO, attrs.offset % 2 ** 32)
    .u32(OFFSET_HI, Math.floor(attrs.offset / 2 ** 32));
  ctx.dispatch(op, randomSpec(kind), params, [result], ctx.grid(op, blocks));
  return result;
}

export function randomVariants(): KernelSpec[] {
  return [randomSpec('uniform'), randomSpec('normal')];
}
