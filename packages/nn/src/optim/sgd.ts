// Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2
// weight decay, following torch.optim.SGD (PyTorch 1.13) step for step.

import { add, mul, type Tensor } from '@gpt/tensor';
import { checkNumber, Optimizer, type ParamGroup, type ParamGroupInput, type ParamState } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  /** L2 penalty added to the gradient: g + weightDecay * p. */
  weightDecay: number;
  nesterov: boolean;
}

/** The numbers of one SGD update (see Optimizer.stepScalars). */
type SGDScalar = 'weightDecay' | 'momentum' | 'undamped' | 'negativeLr';

export class SGD extends Optimizer<SGDOptions, SGDScalar> {
  constructor(params: Iterable<Tensor> | readonly ParamGroupInput<SGDOptions>[], options: Partial<SGDOptions> & { lr: number }) {
    super(params, { momentum: 0, dampening: 0, weightDecay: 0, nesterov: false, ...options });
  }

  protected validate(o: SGDOptions, where: string): void {
    checkNumber('SGD', where, 'lr', o.lr);
    checkNumber('SGD', where, 'momentum', o.momentum);
    checkNumber('SGD', where, 'dampening', o.dampening);
    checkNumber('SGD', where, 'weightDecay', o.weightDecay);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0)) {
      throw new Error(`SGD: ${where}: Nesterov momentum requires momentum > 0 and dampening 0`);
    }
  }

  protected stepScalars(group: ParamGroup<SGDOptions>): Record<SGDScalar, number> {
    return { weightDecay: group.weightDecay, momentum: group.momentum, undamped: 1 - group.dampening, negativeLr: -group.lr };
  }

  protected update(p: Tensor, grad: Tensor, group: ParamGroup<SGDOptions>, state: ParamState, s: Readonly<Record<SGDScalar, Tensor>>): Tensor {
    const { momentum, weightDecay, nesterov } = group;
    let d = weightDecay !== 0 ? add(grad, mul(p, s.weightDecay)) : grad;
    if (momentum !== 0) {
      const previous = state.momentumBuffer as Tensor | undefined;
      // The first step starts the buffer at the gradient itself (no dampening), as
      // PyTorch does; tensors are immutable, so sharing d's data is a copy.
      const buffer = previous ? add(mul(previous, s.momentum), mul(d, s.undamped)) : d.detach();
      this.setState(state, 'momentumBuffer', buffer);
      d = nesterov ? add(d, mul(buffer, s.momentum)) : buffer;
    }
    return add(p, mul(d, s.negativeLr));
  }
}
