// Average pooling over NCHW (padding counted in the average, like PyTorch's default)
// and its gradient, which gathers from the windows covering each input element.

import type { OpAttrs, Pool2dAttrs, TensorMeta } from '../../ops.js';
import { sizeOf } from '../../shape.js';
import { kernelSpec, Params, type GpuInfo, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { GLOBAL_INDEX, MAIN_ARGS, PARAMS_WGSL, storage, windowsReadingPixelWgsl, WORKGROUP_SIZE } from './wgsl.js';

const FIELDS = ['TOTAL', 'H', 'W', 'OH', 'OW', 'KH', 'KW', 'SH', 'SW', 'PH', 'PW'] as const;
const GEOMETRY_WGSL = FIELDS.map((f, i) => `let ${f} = pu(${i}u);`).join('\n  ');

function geometryParams(input: readonly number[], output: readonly number[], a: Pool2dAttrs, total: number): Params {
  const [, , h, w] = input as [number, number, number, number];
  const [, , oh, ow] = output as [number, number, number, number];
  return new Params().u32s(0, [total, h, w, oh, ow, a.kernel[0], a.kernel[1], a.stride[0], a.stride[1], a.padding[0], a.padding[1]]);
}

export function avgPool2dSpec(): KernelSpec {
  return kernelSpec('avgPool2d', () => ({
    code: `${PARAMS_WGSL}
${storage(1, 'x', 'f32', 'read')}
${storage(2, 'y', 'f32', 'read_write')}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  let idx = ${GLOBAL_INDEX};
  ${GEOMETRY_WGSL}
  if (idx >= TOTAL) { return; }
  let ox = idx % OW;
  let oy = (idx / OW) % OH;
  let plane = idx / (OW * OH);
  var acc = 0.0;
  for (var i = 0u; i < KH; i++) {
    let iy = i32(oy * SH + i) - i32(PH);
    if (iy < 0 || iy >= i32(H)) { continue; }
    for (var j = 0u; j < KW; j++) {
      let ix = i32(ox * SW + j) - i32(PW);
      if (ix < 0 || ix >= i32(W)) { continue; }
      acc += x[(plane * H + u32(iy)) * W + u32(ix)];
    }
  }
  y[idx] = acc * (1.0 / f32(KH * KW));
}
`,
    storage: ['read', 'read_write'],
  }));
}

export function avgPool2dBackpropSpec(): KernelSpec {
  return kernelSpec('avgPool2dBackprop', () => ({
    code: `${PARAMS_WGSL}
${storage(1, 'dy', 'f32', 'read')}
${storage(2, 'dx', 'f32', 'read_write')}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  let idx = ${GLOBAL_INDEX};
  ${GEOMETRY_WGSL}
  if (idx >= TOTAL) { return; }
  let xx = idx % W;
  let yy = (idx / W) % H;
  let plane = idx / (W * H);
  let scale = 1.0 / f32(KH * KW);
  var acc = 0.0;
${windowsReadingPixelWgsl('acc += dy[(plane * OH + oy) * OW + ox] * scale;')}
  dx[idx] = acc;
}
`,
    storage: ['read', 'read_write'],
  }));
}

export function runAvgPool2d(ctx: KernelContext, x: GpuInfo, attrs: OpAttrs['avgPool2d'], out: TensorMeta): GpuTensorBuffer {
  const result = ctx.allocate('avgPool2d', out);
  const total = sizeOf(out.shape);
  if (total === 0) return result;
  ctx.dispatch('avgPool2d', avgPool2dSpec(), geometryParams(x.shape, out.shape, attrs, total), [x.buffer, result], ctx.grid('avgPool2d', total));
  return result;
}

export function runAvgPool2dBackprop(ctx: KernelContext, dy: GpuInfo, attrs: OpAttrs['avgPool2dBackprop'], out: TensorMeta): GpuTensorBuffer {
  const result = ctx.allocate('avgPool2dBackprop', out);
  const total = sizeOf(out.shape);
  if (total === 0) return result;
  const params = geometryParams(attrs.inputShape, dy.shape, attrs, total);
  ctx.dispatch('avgPool2dBackprop', avgPool2dBackpropSpec(), params, [dy.buffer, result], ctx.grid('avgPool2dBackprop', total));
  return result;
}

export function avgPool2dVariants(): KernelSpec[] {
  return [avgPool2dSpec(), avgPool2dBackpropSpec()];
}
