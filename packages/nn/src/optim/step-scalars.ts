// Hyper-parameters as kernel inputs without an upload per parameter. An op given a
// number uploads it as a 0-d tensor, so an optimizer step that passes five numbers
// per parameter made five host-to-device writes per parameter (on WebGPU, for a
// 156M-parameter model, that dominated the step). Here the numbers of one update
// are uploaded together as one [k] tensor and cut into 0-d views on the device;
// updates that use the same numbers on the same device (a parameter group whose
// parameters share a step count) share that one upload.

import { keep, noGrad, slice, tensor, type Tensor } from '@gpt/tensor';

export class StepScalars {
  private readonly uploaded = new Map<string, Record<string, Tensor>>();

  /** `values` as 0-d float32 tensors on `device`, uploaded once per distinct set of values. */
  get<S extends string>(values: Readonly<Record<S, number>>, device: string): Readonly<Record<S, Tensor>> {
    const names = Object.keys(values) as S[];
    const numbers = names.map((name) => values[name]);
    // Number-to-string is exact (it round-trips), so equal keys mean equal float32 values.
    const key = `${device}|${names.join(',')}|${numbers.join(',')}`;
    let scalars = this.uploaded.get(key);
    if (!scalars) {
      scalars = noGrad(() => {
        const all = tensor(Float32Array.from(numbers), { device }); // [k]: the one upload
        const result: Record<string, Tensor> = {};
        // keep: they outlive the tidy scope of the update that first asks for them.
        names.forEach((name, i) => (result[name] = keep(slice(all, [i])))); // 0-d each
        all.dispose();
        return result;
      });
      this.uploaded.set(key, scalars);
    }
    return scalars as Record<S, Tensor>;
  }

  /** Frees every uploaded scalar (call once the updates using them are recorded). */
  dispose(): void {
    for (const scalars of this.uploaded.values()) for (const t of Object.values(scalars)) t.dispose();
    this.uploaded.clear();
  }
}
