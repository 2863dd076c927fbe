// Adam and AdamW, following torch.optim.Adam / AdamW (PyTorch 1.13, amsgrad off):
// Adam adds weightDecay * p to the gradient (L2); AdamW decays the parameter
// directly, p *= 1 - lr * weightDecay, before the Adam step (decoupled decay).

import { adamUpdate, add, mul, zerosLike, type Tensor } from '@gpt/tensor';
import { checkNumber, Optimizer, type ParamGroup, type ParamGroupInput, type ParamState } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
}

type Params = Iterable<Tensor> | readonly ParamGroupInput<AdamOptions>[];

/** The numbers of one Adam(W) update (see Optimizer.stepScalars). */
type AdamScalar = 'momentWeight' | 'varianceWeight' | 'weightDecay' | 'decay' | 'alpha' | 'eps';

abstract class AdamBase extends Optimizer<AdamOptions, AdamScalar> {
  protected abstract readonly decoupled: boolean;

  protected validate(o: AdamOptions, where: string): void {
    const name = this.constructor.name;
    checkNumber(name, where, 'lr', o.lr);
    checkNumber(name, where, 'eps', o.eps);
    checkNumber(name, where, 'weightDecay', o.weightDecay);
    if (!Array.isArray(o.betas) || o.betas.length !== 2) throw new Error(`${name}: ${where}: betas must be a pair [beta1, beta2]`);
    checkNumber(name, where, 'betas[0]', o.betas[0], 0, 1 - Number.EPSILON);
    checkNumber(name, where, 'betas[1]', o.betas[1], 0, 1 - Number.EPSILON);
  }

  protected stepScalars(group: ParamGroup<AdamOptions>, state: ParamState): Record<AdamScalar, number> {
    const { lr, eps, weightDecay } = group;
    const [beta1, beta2] = group.betas;
    const step = ((state.step as number | undefined) ?? 0) + 1; // the step update() is about to take
    // PyTorch's step, p - lr/c1 · m / (sqrt(v)/c2 + eps) with c1 = 1 - beta1^t and
    // c2 = sqrt(1 - beta2^t), multiplied through by c2: both bias corrections fold
    // into alpha and eps, which the kernel takes as inputs (no recompilation per step).
    const c2 = Math.sqrt(1 - beta2 ** step);
    return {
      momentWeight: 1 - beta1,
      varianceWeight: 1 - beta2,
      weightDecay,
      decay: this.decoupled ? 1 - lr * weightDecay : 1,
      alpha: (lr / (1 - beta1 ** step)) * c2,
      eps: eps * c2,
    };
  }

  protected update(p: Tensor, grad: Tensor, group: ParamGroup<AdamOptions>, state: ParamState, s: Readonly<Record<AdamScalar, Tensor>>): Tensor {
    // The numbers as step() computed them for `s`, read before the step count moves; the fused
    // kernel takes them as arguments.
    const scalars = this.stepScalars(group, state);
    state.step = ((state.step as number | undefined) ?? 0) + 1;
    const g = !this.decoupled && group.weightDecay !== 0 ? add(grad, mul(p, s.weightDecay)) : grad;
    // One pass over memory: both moments and the parameter (lerp, lerpSquare and adamStep in one kernel).
    const m = (state.expAvg as Tensor | undefined) ?? zerosLike(p);
    const v = (state.expAvgSq as Tensor | undefined) ?? zerosLike(p);
    const [param, expAvg, expAvgSq] = adamUpdate(p, g, m, v, scalars);
    this.setState(state, 'expAvg', expAvg);
    this.setState(state, 'expAvgSq', expAvgSq);
    return param;
  }
}

export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: Params, options: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0, ...options });
  }
}

export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: Params, options: Partial<AdamOptions> = {}) {
    super(params, { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 1e-2, ...options });
  }
}
