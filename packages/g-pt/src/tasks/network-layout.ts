// A task's flat layout comes from its network, not from a second table: the state dict's
// names and shapes (state-dict order) are the checkpoint layout, and a permutation spec
// (e.g. @gpt/checkpoints' OFFICIAL_TASKS) is accepted only when its tensors equal them.
import type { PermutationSpec, TensorSpec } from '@gpt/checkpoints';
import { ParameterPermuter } from '@gpt/checkpoints';
import type { Module } from '@gpt/nn';
import { Generator } from '@gpt/tensor';

/** The module's state-dict tensors in order: the flat layout of its checkpoints. */
export function tensorsOf(module: Module): TensorSpec[] {
  return module.stateShapes().map(([name, shape]) => ({ name, shape: [...shape] }));
}

/** Builds one throwaway network to read its layout. */
export function networkTensors(createNetwork: (generator: Generator) => Module, where: string): TensorSpec[] {
  let network: Module;
  try {
    network = createNetwork(new Generator(0));
  } catch (error) {
    throw new Error(`${where}: building the network failed: ${(error as Error).message}`);
  }
  try {
    const tensors = tensorsOf(network);
    if (tensors.length === 0) throw new Error(`${where}: the network has no parameters`);
    return tensors;
  } finally {
    network.dispose();
  }
}

/**
 * The permutation spec for a network: `spec` when its tensors are exactly the network's
 * (names, shapes, order), else an error showing both; no spec means no permutable units.
 */
export function permutationFor(tensors: readonly TensorSpec[], spec: PermutationSpec | undefined, where: string): PermutationSpec {
  if (!spec) return { tensors, groups: [] };
  const describe = (list: readonly TensorSpec[]) => list.map((t) => `${t.name} [${t.shape.join(', ')}]`).join(', ');
  const same =
    spec.tensors.length === tensors.length &&
    spec.tensors.every((t, i) => t.name === tensors[i]!.name && t.shape.length === tensors[i]!.shape.length && t.shape.every((d, a) => d === tensors[i]!.shape[a]));
  if (!same) {
    throw new Error(`${where}: the permutation spec's tensors (${describe(spec.tensors)}) differ from the network's state dict (${describe(tensors)})`);
  }
  // Validates the groups (unknown tensors, wrong axis lengths) now rather than at augmentation time.
  new ParameterPermuter(spec);
  return spec;
}
