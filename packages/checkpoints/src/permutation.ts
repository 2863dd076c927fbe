// Permutation augmentation: re-ordering the hidden units of a network changes its
// parameter vector but not its function. A hidden layer's units are rows (axis 0) of
// the tensors that produce them and columns (axis 1) of the tensor that consumes them;
// permuting all of these with one permutation keeps every output identical. G.pt draws
// a fresh permutation per training example and applies it to θ₀ and θ₁ alike.
//
// The permutation is applied to flat vectors (state-dict order) as a gather:
// out[i] = in[index[i]], with `index` built once per draw, like the official
// random_permute_flat.
import type { Generator } from '@gpt/tensor';
import type { TensorSpec } from './manifest.js';

/** One axis of one tensor that is indexed by a hidden layer's units. */
export interface PermutationMember {
  readonly tensor: string;
  /** 0 for rows (output units of a Linear/Conv), 1 for columns (input units). */
  readonly axis: number;
}

/** The units of one hidden layer: every member is permuted with the same permutation. */
export interface PermutationGroup {
  readonly name?: string;
  /** Number of units (the length of every member's axis). */
  readonly size: number;
  readonly members: readonly PermutationMember[];
}

export interface PermutationSpec {
  /** All tensors of the network, in state-dict order. */
  readonly tensors: readonly TensorSpec[];
  readonly groups: readonly PermutationGroup[];
}

interface CompiledTensor {
  readonly offset: number;
  readonly shape: readonly number[];
  /** Per axis: the index of the group permuting it, or -1. */
  readonly axisGroup: readonly number[];
}

/** A validated spec, ready to build gather indices quickly. */
export class ParameterPermuter {
  readonly parameterCount: number;
  private readonly compiled: readonly CompiledTensor[];

  constructor(readonly spec: PermutationSpec) {
    const byName = new Map<string, number>();
    const compiled: { offset: number; shape: readonly number[]; axisGroup: number[] }[] = [];
    let offset = 0;
    for (const t of spec.tensors) {
      if (byName.has(t.name)) throw new Error(`permutation spec: tensor "${t.name}" listed twice`);
      byName.set(t.name, compiled.length);
      compiled.push({ offset, shape: t.shape, axisGroup: t.shape.map(() => -1) });
      offset += t.shape.reduce((n, d) => n * d, 1);
    }
    this.parameterCount = offset;
    for (const [g, group] of spec.groups.entries()) {
      const label = group.name ?? `group ${g}`;
      if (!Number.isSafeInteger(group.size) || group.size < 1) throw new Error(`permutation spec: ${label} has size ${group.size}`);
      for (const { tensor, axis } of group.members) {
        const index = byName.get(tensor);
        if (index === undefined) throw new Error(`permutation spec: ${label} names unknown tensor "${tensor}"`);
        const t = compiled[index]!;
        if (!Number.isInteger(axis) || axis < 0 || axis >= t.shape.length) {
          throw new Error(`permutation spec: ${label}: tensor "${tensor}" has no axis ${axis} (shape ${JSON.stringify(t.shape)})`);
        }
        if (t.shape[axis] !== group.size) {
          throw new Error(`permutation spec: ${label} has ${group.size} units but axis ${axis} of "${tensor}" has length ${t.shape[axis]}`);
        }
        if (t.axisGroup[axis] !== -1) throw new Error(`permutation spec: axis ${axis} of "${tensor}" belongs to two groups`);
        t.axisGroup[axis] = g;
      }
    }
    this.compiled = compiled;
  }

  /** Draws one random permutation per group. */
  drawPermutations(generator: Generator): Int32Array[] {
    return this.spec.groups.map((g) => generator.permutation(g.size));
  }

  /**
   * The gather index for given per-group permutations: new unit u of a group is old
   * unit perm[u] (torch's `tensor[perm]`).
   */
  indexFor(permutations: readonly Int32Array[]): Int32Array {
    if (permutations.length !== this.spec.groups.length) throw new Error(`indexFor: ${permutations.length} permutations for ${this.spec.groups.length} groups`);
    const index = new Int32Array(this.parameterCount);
    for (const t of this.compiled) fillTensorIndex(index, t, permutations);
    return index;
  }

  /** A random gather index (one fresh permutation per group). */
  randomIndex(generator: Generator): Int32Array {
    return this.indexFor(this.drawPermutations(generator));
  }
}

// Walks the tensor in C order: an odometer over all axes but the last gives the base
// source offset (sum of mapped coordinate × stride, grouped axes mapped through their
// permutation); the last axis is a plain inner loop, which is where the time goes.
function fillTensorIndex(index: Int32Array, t: CompiledTensor, permutations: readonly Int32Array[]): void {
  const rank = t.shape.length;
  if (rank === 0) {
    index[t.offset] = t.offset;
    return;
  }
  const strides = new Array<number>(rank);
  let stride = 1;
  for (let a = rank - 1; a >= 0; a--) {
    strides[a] = stride;
    stride *= t.shape[a]!;
  }
  const maps = t.axisGroup.map((g) => (g >= 0 ? permutations[g]! : null));
  const last = rank - 1;
  const inner = t.shape[last]!;
  const innerMap = maps[last];
  const outerCount = stride / inner;
  const coord = new Array<number>(last).fill(0);
  let p = t.offset;
  for (let o = 0; o < outerCount; o++) {
    let base = t.offset;
    for (let a = 0; a < last; a++) {
      const map = maps[a];
      base += (map ? map[coord[a]!]! : coord[a]!) * strides[a]!;
    }
    if (innerMap) for (let j = 0; j < inner; j++) index[p++] = base + innerMap[j]!;
    else for (let j = 0; j < inner; j++) index[p++] = base + j;
    for (let a = last - 1; a >= 0; a--) {
      if (++coord[a]! < t.shape[a]!) break;
      coord[a] = 0;
    }
  }
}

/** out[i] = values[index[i]]: applies a gather index to one flat vector. */
export function applyGather(values: Float32Array, index: Int32Array, out?: Float32Array): Float32Array {
  if (values.length !== index.length) throw new RangeError(`applyGather: vector has ${values.length} values, index has ${index.length}`);
  if (out === values) throw new Error('applyGather: cannot permute in place');
  const target = out ?? new Float32Array(values.length);
  for (let i = 0; i < index.length; i++) target[i] = values[index[i]!]!;
  return target;
}
