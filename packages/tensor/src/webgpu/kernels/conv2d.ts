// Direct 2-D convolution (NCHW input, [O, C, KH, KW] filter) and its two gradients,
// without im2col buffers:
//   forward         one invocation per 4 output pixels of a row and 4 output channels
//                   (each filter tap is loaded once for 4 pixels, each input value
//                   once for 4 channels);
//   backprop input  one invocation per input element, gathering the output gradients
//                   whose windows cover it (no atomics, deterministic);
//   backprop filter one workgroup per filter element, its invocations striding over
//                   batch and output pixels, combined by a tree sum.

import type { Conv2dAttrs, OpAttrs, TensorMeta } from '../../ops.js';
import { sizeOf } from '../../shape.js';
import { kernelSpec, Params, type GpuInfo, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { FLOAT_CLASS_WGSL, GLOBAL_INDEX, GROUP_INDEX, MAIN_ARGS, PARAMS_WGSL, storage, windowsReadingPixelWgsl, WORKGROUP_SIZE } from './wgsl.js';
import { WORKGROUP_REDUCE_WGSL } from './workgroup-reduce.js';

const FIELDS = ['N', 'C', 'H', 'W', 'O', 'KH', 'KW', 'OH', 'OW', 'SH', 'SW', 'PH', 'PW', 'TOTAL'] as const;
type Field = (typeof FIELDS)[number];

/** WGSL `let` bindings for every geometry field, read from the parameter block. */
const GEOMETRY_WGSL = FIELDS.map((f, i) => `let ${f} = pu(${i}u);`).join('\n  ');

function geometryParams(
  x: readonly number[],
  w: readonly number[],
  y: readonly number[],
  a: Conv2dAttrs,
  total: number,
): Params {
  const [n, c, h, wd] = x as [number, number, number, number];
  const [o, , kh, kw] = w as [number, number, number, number];
  const [, , oh, ow] = y as [number, number, number, number];
  const values: Record<Field, number> = {
    N: n, C: c, H: h, W: wd, O: o, KH: kh, KW: kw, OH: oh, OW: ow,
    SH: a.stride[0], SW: a.stride[1], PH: a.padding[0], PW: a.padding[1], TOTAL: total,
  };
  return new Params().u32s(0, FIELDS.map((f) => values[f]));
}

const HEAD = `${PARAMS_WGSL}
${FLOAT_CLASS_WGSL}`;

export function conv2dSpec(): KernelSpec {
  return kernelSpec('conv2d', () => ({
    code: `${HEAD}
${storage(1, 'x', 'f32', 'read')}
${storage(2, 'w', 'f32', 'read')}
${storage(3, 'y', 'f32', 'read_write')}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  let idx = ${GLOBAL_INDEX};
  ${GEOMETRY_WGSL}
  if (idx >= TOTAL) { return; }
  let blocks = (O + 3u) / 4u;
  let quads = (OW + 3u) / 4u;
  let ox0 = (idx % quads) * 4u;
  var t = idx / quads;
  let oy = t % OH;
  t = t / OH;
  let o0 = (t % blocks) * 4u;
  let n = t / blocks;
  let ckk = C * KH * KW;
  let w0 = o0 * ckk;
  let w1 = min(o0 + 1u, O - 1u) * ckk;
  let w2 = min(o0 + 2u, O - 1u) * ckk;
  let w3 = min(o0 + 3u, O - 1u) * ckk;
  // acc[p] holds the 4 channels of output pixel ox0 + p.
  var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
  for (var c = 0u; c < C; c++) {
    for (var i = 0u; i < KH; i++) {
      let iy = i32(oy * SH + i) - i32(PH);
      if (iy < 0 || iy >= i32(H)) { continue; }
      let x_row = ((n * C + c) * H + u32(iy)) * W;
      for (var j = 0u; j < KW; j++) {
        let f = (c * KH + i) * KW + j;
        let wv = vec4<f32>(w[w0 + f], w[w1 + f], w[w2 + f], w[w3 + f]);
        for (var p = 0u; p < 4u; p++) {
          let ix = i32((ox0 + p) * SW + j) - i32(PW);
          if (ix >= 0 && ix < i32(W)) { acc[p] += x[x_row + u32(ix)] * wv; }
        }
      }
    }
  }
  let plane = OH * OW;
  for (var p = 0u; p < 4u; p++) {
    if (ox0 + p >= OW) { break; }
    let out = ((n * O + o0) * OH + oy) * OW + ox0 + p;
    let v = acc[p];
    y[out] = v.x;
    if (o0 + 1u < O) { y[out + plane] = v.y; }
    if (o0 + 2u < O) { y[out + 2u * plane] = v.z; }
    if (o0 + 3u < O) { y[out + 3u * plane] = v.w; }
  }
}
`,
    storage: ['read', 'read', 'read_write'],
  }));
}

export function conv2dBackpropInputSpec(): KernelSpec {
  return kernelSpec('conv2dBackpropInput', () => ({
    code: `${HEAD}
${storage(1, 'dy', 'f32', 'read')}
${storage(2, 'w', 'f32', 'read')}
${storage(3, 'dx', 'f32', 'read_write')}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  let idx = ${GLOBAL_INDEX};
  ${GEOMETRY_WGSL}
  if (idx >= TOTAL) { return; }
  let xx = idx % W;
  var t = idx / W;
  let yy = t % H;
  t = t / H;
  let c = t % C;
  let n = t / C;
  var acc = 0.0;
${windowsReadingPixelWgsl(`for (var o = 0u; o < O; o++) {
        acc += dy[((n * O + o) * OH + oy) * OW + ox] * w[((o * C + c) * KH + i) * KW + j];
      }`)}
  dx[idx] = acc;
}
`,
    storage: ['read', 'read', 'read_write'],
  }));
}

export function conv2dBackpropFilterSpec(): KernelSpec {
  return kernelSpec('conv2dBackpropFilter', () => ({
    code: `${HEAD}
${WORKGROUP_REDUCE_WGSL}
${storage(1, 'x', 'f32', 'read')}
${storage(2, 'dy', 'f32', 'read')}
${storage(3, 'dw', 'f32', 'read_write')}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  let row = ${GROUP_INDEX};
  ${GEOMETRY_WGSL}
  let valid = row < TOTAL;
  let j = row % KW;
  var t = row / KW;
  let i = t % KH;
  t = t / KH;
  let c = t % C;
  let o = t / C;
  var local = 0.0;
  if (valid) {
    let count = N * OH * OW;
    for (var s = li; s < count; s += ${WORKGROUP_SIZE}u) {
      let ox = s % OW;
      let u = s / OW;
      let oy = u % OH;
      let n = u / OH;
      let iy = i32(oy * SH + i) - i32(PH);
      let ix = i32(ox * SW + j) - i32(PW);
      if (iy < 0 || iy >= i32(H) || ix < 0 || ix >= i32(W)) { continue; }
      local += dy[((n * O + o) * OH + oy) * OW + ox] * x[((n * C + c) * H + u32(iy)) * W + u32(ix)];
    }
  }
  let total = group_sum(local, li);
  if (valid && li == 0u) { dw[row] = total; }
}
`,
    storage: ['read', 'read', 'read_write'],
  }));
}

export function runConv2d(ctx: KernelContext, inputs: readonly GpuInfo[], attrs: OpAttrs['conv2d'], out: TensorMeta): GpuTensorBuffer {
  const [x, w] = inputs as [GpuInfo, GpuInfo];
  const result = ctx.allocate('conv2d', out);
  const [n, o, oh, ow] = out.shape as [number, number, number, number];
  const total = n * Math.ceil(o / 4) * oh * Math.ceil(ow / 4);
  if (sizeOf(out.shape) === 0) return result;
  const params = geometryParams(x.shape, w.shape, out.shape, attrs, total);
  ctx.dispatch('conv2d', conv2dSpec(), params, [x.buffer, w.buffer, result], ctx.grid('conv2d', total));
  return result;
}

export function runConv2dBackpropInput(
  ctx: KernelContext,
  inputs: readonly GpuInfo[],
  attrs: OpAttrs['conv2dBackpropInput'],
  out: TensorMeta,
): GpuTensorBuffer {
  const [dy, w] = inputs as [GpuInfo, GpuInfo];
  const result = ctx.allocate('conv2dBackpropInput', out);
  const total = sizeOf(out.shape);
  if (total === 0) return result;
  const params = geometryParams(attrs.inputShape, w.shape, dy.shape, attrs, total);
  ctx.dispatch('conv2dBackpropInput', conv2dBackpropInputSpec(), params, [dy.buffer, w.buffer, result], ctx.grid('conv2dBackpropInput', total));
  return result;
}

export function runConv2dBackpropFilter(
  ctx: KernelContext,
  inputs: readonly GpuInfo[],
  attrs: OpAttrs['conv2dBackpropFilter'],
  out: TensorMeta,
): GpuTensorBuffer {
  const [x, dy] = inputs as [GpuInfo, GpuInfo];
  const result = ctx.allocate('conv2dBackpropFilter', out);
  const total = sizeOf(out.shape);
  if (total === 0) return result;
  const params = geometryParams(x.shape, attrs.filterShape, dy.shape, attrs, total);
  ctx.dispatch('conv2dBackpropFilter', conv2dBackpropFilterSpec(), params, [x.buffer, dy.buffer, result], ctx.grid('conv2dBackpropFilter', total, 1));
  return result;
}

export function conv2dVariants(): KernelSpec[] {
  return [conv2dSpec(), conv2dBackpropInputSpec(), conv2dBackpropFilterSpec()];
}
