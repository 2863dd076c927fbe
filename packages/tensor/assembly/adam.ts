// One Adam(W) update of a parameter in a single pass: reads param, grad and both moments,
// writes the new param and moments (the `adamUpdate` op of src/ops.ts). The formulas and
// their order of float32 operations are those of the fused elementwise ops the update used
// to take three passes for (lerp, lerpSquare, adamStep), so the results are the same bits:
//   m' = m + w1 (g - m),  v' = v + w2 (g g - v),  p' = p decay - (alpha m') / (sqrt(v') + eps)

import { JOB_ARGS, jobWord } from './job';

/** Element count, and elements per task (a multiple of 4). */
export const ADAM_COUNT: i32 = JOB_ARGS;
export const ADAM_TASK_SIZE: i32 = JOB_ARGS + 1;
/** Byte addresses: inputs param, grad, expAvg, expAvgSq, then outputs param', expAvg', expAvgSq'. */
export const ADAM_ARRAYS: i32 = JOB_ARGS + 2;
/** float32 bits of momentWeight, varianceWeight, decay, alpha, eps. */
export const ADAM_SCALARS: i32 = JOB_ARGS + 9;

@inline function address(job: usize, k: i32): usize {
  return <usize>jobWord(job, ADAM_ARRAYS + k);
}

@inline function scalar(job: usize, k: i32): f32 {
  return reinterpret<f32>(jobWord(job, ADAM_SCALARS + k));
}

/** Runs task `t`: elements [t * taskSize, min(count, (t + 1) * taskSize)). */
export function adamTask(job: usize, t: i32): void {
  const count = jobWord(job, ADAM_COUNT);
  const taskSize = jobWord(job, ADAM_TASK_SIZE);
  const p = address(job, 0);
  const g = address(job, 1);
  const m = address(job, 2);
  const v = address(job, 3);
  const outP = address(job, 4);
  const outM = address(job, 5);
  const outV = address(job, 6);
  const w1 = scalar(job, 0);
  const w2 = scalar(job, 1);
  const decay = scalar(job, 2);
  const alpha = scalar(job, 3);
  const eps = scalar(job, 4);
  const w1v = f32x4.splat(w1);
  const w2v = f32x4.splat(w2);
  const decayV = f32x4.splat(decay);
  const alphaV = f32x4.splat(alpha);
  const epsV = f32x4.splat(eps);
  const start = t * taskSize;
  const end = min(count, start + taskSize);
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const o = <usize>i << 2;
    const gi = v128.load(g + o);
    const mi = v128.load(m + o);
    const vi = v128.load(v + o);
    const m2 = f32x4.add(mi, f32x4.mul(w1v, f32x4.sub(gi, mi)));
    const v2 = f32x4.add(vi, f32x4.mul(w2v, f32x4.sub(f32x4.mul(gi, gi), vi)));
    const p2 = f32x4.sub(f32x4.mul(v128.load(p + o), decayV), f32x4.div(f32x4.mul(alphaV, m2), f32x4.add(f32x4.sqrt(v2), epsV)));
    v128.store(outM + o, m2);
    v128.store(outV + o, v2);
    v128.store(outP + o, p2);
  }
  for (; i < end; i++) {
    const o = <usize>i << 2;
    const gi = load<f32>(g + o);
    const mi = load<f32>(m + o);
    const vi = load<f32>(v + o);
    const m2 = mi + w1 * (gi - mi);
    const v2 = vi + w2 * (gi * gi - vi);
    store<f32>(outM + o, m2);
    store<f32>(outV + o, v2);
    store<f32>(outP + o, load<f32>(p + o) * decay - (alpha * m2) / (sqrt<f32>(v2) + eps));
  }
}
