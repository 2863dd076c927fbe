// adamUpdate: one Adam(W) step of a parameter in one dispatch, reading param, grad and both
// moments and writing the three new arrays (the same float32 operations, in the same order,
// as the CPU kernels). The per-step numbers travel in the parameter block, so the pipeline
// is compiled once.

import type { OpAttrs, TensorMeta } from '../../ops.js';
import { sizeOf } from '../../shape.js';
import { kernelSpec, Params, type GpuInfo, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { ELEMENTS_PER_INVOCATION, gridStrideWgsl, MAIN_ARGS, PARAMS_WGSL, storage, WORKGROUP_SIZE } from './wgsl.js';

const N = 0;
const MOMENT_WEIGHT = 1;
const VARIANCE_WEIGHT = 2;
const DECAY = 3;
const ALPHA = 4;
const EPS = 5;

export function adamUpdateSpec(): KernelSpec {
  return kernelSpec('adamUpdate', () => {
    const code = `${PARAMS_WGSL}
${['p', 'g', 'm', 'v'].map((name, k) => storage(k + 1, name, 'f32', 'read')).join('\n')}
${['out_p', 'out_m', 'out_v'].map((name, k) => storage(k + 5, name, 'f32', 'read_write')).join('\n')}

@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  let w1 = pf(${MOMENT_WEIGHT}u);
  let w2 = pf(${VARIANCE_WEIGHT}u);
  let decay = pf(${DECAY}u);
  let alpha = pf(${ALPHA}u);
  let eps = pf(${EPS}u);
  ${gridStrideWgsl(`pu(${N}u)`, `let gi = g[i];
    let m2 = m[i] + w1 * (gi - m[i]);
    let v2 = v[i] + w2 * (gi * gi - v[i]);
    out_m[i] = m2;
    out_v[i] = v2;
    out_p[i] = p[i] * decay - (alpha * m2) / (sqrt(v2) + eps);`)}
}
`;
    return { code, storage: ['read', 'read', 'read', 'read', 'read_write', 'read_write', 'read_write'] };
  });
}

/** [param', expAvg', expAvgSq'] from inputs [param, grad, expAvg, expAvgSq]. */
export function runAdamUpdate(ctx: KernelContext, inputs: readonly GpuInfo[], attrs: OpAttrs['adamUpdate'], out: TensorMeta): GpuTensorBuffer[] {
  const results = [0, 1, 2].map(() => ctx.allocate('adamUpdate', out));
  const n = sizeOf(out.shape);
  if (n === 0) return results;
  const params = new Params()
    .u32(N, n)
    .f32(MOMENT_WEIGHT, attrs.momentWeight)
    .f32(VARIANCE_WEIGHT, attrs.varianceWeight)
    .f32(DECAY, attrs.decay)
    .f32(ALPHA, attrs.alpha)
    .f32(EPS, attrs.eps);
  ctx.dispatch('adamUpdate', adamUpdateSpec(), params, [...inputs.map((t) => t.buffer), ...results], ctx.grid('adamUpdate', Math.ceil(n / ELEMENTS_PER_INVOCATION)));
  return results;
}
