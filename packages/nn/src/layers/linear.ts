// Linear (fully connected) layer: y = x W^T + b, like torch.nn.Linear.

import { matmul, reshape, tidy, type RandomOptions, type Tensor } from '@gpt/tensor';
import { defaultLayerInit } from '../init.js';
import { Module, parameter, type Layer } from '../module.js';

export interface LinearOptions extends RandomOptions {
  /** Add a learnable bias (default true). */
  bias?: boolean;
}

export class Linear extends Module implements Layer {
  /** [out, in] */
  weight: Tensor;
  /** [out], or null without bias */
  bias: Tensor | null;

  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    options: LinearOptions = {},
  ) {
    super();
    for (const [name, v] of [['inFeatures', inFeatures], ['outFeatures', outFeatures]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new Error(`Linear: ${name} must be a positive integer, got ${v}`);
    }
    const { bias = true, ...random } = options;
    const init = defaultLayerInit([outFeatures, inFeatures], bias, random);
    this.weight = parameter(init.weight);
    this.bias = init.bias && parameter(init.bias);
  }

  /** [..., in] -> [..., out] */
  forward(x: Tensor): Tensor {
    if (x.rank === 0 || x.shape.at(-1) !== this.inFeatures) {
      throw new Error(`Linear.forward: input [${x.shape.join(', ')}] should end in ${this.inFeatures} features`);
    }
    return tidy(() => {
      // Fold leading axes into one so a single 2-D GEMM does the work.
      const flat = x.rank === 2 ? x : reshape(x, [-1, this.inFeatures]); // [N, in]
      // The bias rides in the matmul: the GEMM accumulates onto it instead of a second pass over the output.
      const biased = matmul(flat, this.weight, { transB: true, bias: this.bias }); // [N, out]
      return x.rank === 2 ? biased : reshape(biased, [...x.shape.slice(0, -1), this.outFeatures]); // [..., out]
    });
  }

  protected override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
