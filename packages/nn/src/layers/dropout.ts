// Dropout layer (inverted dropout, active only in training mode), like torch.nn.Dropout.

import { dropout, type Generator, type Tensor } from '@gpt/tensor';
import { Module, type Layer } from '../module.js';

export class Dropout extends Module implements Layer {
  private readonly generator: Generator | undefined;

  /** `generator`: where the masks come from (the default generator when omitted). */
  constructor(
    readonly p = 0.5,
    options: { generator?: Generator } = {},
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p must be in [0, 1), got ${p}`);
    this.generator = options.generator;
  }

  forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, generator: this.generator });
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
