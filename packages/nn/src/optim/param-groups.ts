// nanoGPT's configure_optimizers split into a decayed and an undecayed parameter group.
// By default weight decay goes to parameters with >= 2 dimensions (Linear/Conv weights)
// and not to biases or LayerNorm weights; a model whose >= 2-D tensors are not all
// weights (G.pt's positional embedding) passes a predicate that sees each parameter's
// name and the module that owns it, as the official code tests `isinstance(m, Linear)`.

import type { Tensor } from '@gpt/tensor';
import type { Module } from '../module.js';

/**
 * Whether a parameter is weight-decayed: `name` is its full dotted name
 * (`blocks.0.attn.key.weight`), `owner` the module that holds it as its own property.
 */
export type DecayPredicate = (name: string, parameter: Tensor, owner: Module) => boolean;

/** The default: decay every parameter of two or more dimensions. */
export const decayTwoOrMoreDims: DecayPredicate = (_name, parameter) => parameter.rank >= 2;

/**
 * Two parameter groups: [{ params: those `decays` accepts, weightDecay }, { params: the rest,
 * weightDecay: 0 }], each in state-dict order; a tensor shared by two modules is judged once,
 * with its first owner.
 */
export function weightDecayParamGroups(
  module: Module,
  weightDecay: number,
  decays: DecayPredicate = decayTwoOrMoreDims,
): [{ params: Tensor[]; weightDecay: number }, { params: Tensor[]; weightDecay: number }] {
  const decayed: Tensor[] = [];
  const undecayed: Tensor[] = [];
  const seen = new Set<Tensor>();
  for (const [prefix, owner] of module.namedModules()) {
    for (const [own, parameter] of owner.ownParameters()) {
      if (seen.has(parameter)) continue;
      seen.add(parameter);
      const name = prefix ? `${prefix}.${own}` : own;
      (decays(name, parameter, owner) ? decayed : undecayed).push(parameter);
    }
  }
  return [
    { params: decayed, weightDecay },
    { params: undecayed, weightDecay: 0 },
  ];
}
