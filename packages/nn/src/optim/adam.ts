// Adam and AdamW, following torch.optim.Adam / AdamW (PyTorch 1.13, amsgrad off):
// Adam adds weightDecay * p to the gradient (L2); AdamW decays the parameter
// directly, p *= 1 - lr * weightDecay, before the Adam step (decoupled decay).

import { add, div, mul, sqrt, zerosLike, type Tensor } from '@gpt/tensor';
import { checkNumber, Optimizer, type ParamGroup, type ParamGroupInput, type ParamState } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
}

type Params = Iterable<Tensor> | readonly ParamGroupInput<AdamOptions>[];

abstract class AdamBase extends Optimizer<AdamOptions> {
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

  protected update(p: Tensor, grad: Tensor, group: ParamGroup<AdamOptions>, state: ParamState): Tensor {
    const { lr, eps, weightDecay } = group;
    const [beta1, beta2] = group.betas;
    const step = ((state.step as number | undefined) ?? 0) + 1;
    state.step = step;
    let param = p;
    let g = grad;
    if (weightDecay !== 0) {
      if (this.decoupled) param = mul(p, 1 - lr * weightDecay);
      else g = add(grad, mul(p, weightDecay));
    }
    const m0 = (state.expAvg as Tensor | undefined) ?? zerosLike(p);
    const v0 = (state.expAvgSq as Tensor | undefined) ?? zerosLike(p);
    const m = add(mul(m0, beta1), mul(g, 1 - beta1));
    const v = add(mul(v0, beta2), mul(mul(g, g), 1 - beta2));
    this.setState(state, 'expAvg', m);
    this.setState(state, 'expAvgSq', v);
    // Bias corrections are host scalars, as in PyTorch's single-tensor implementation.
    const stepSize = lr / (1 - beta1 ** step);
    const correction2Sqrt = Math.sqrt(1 - beta2 ** step);
    const denom = add(div(sqrt(v), correction2Sqrt), eps);
    return add(param, mul(div(m, denom), -stepSize));
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
