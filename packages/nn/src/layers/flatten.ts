// Flattens axes startDim..endDim into one, like torch.nn.Flatten (default: all but the batch axis).

import { flatten, type Tensor } from '@gpt/tensor';
import { Module, type Layer } from '../module.js';

export class Flatten extends Module implements Layer {
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }

  forward(x: Tensor): Tensor {
    return flatten(x, this.startDim, this.endDim);
  }

  protected override extraRepr(): string {
    return `startDim=${this.startDim}, endDim=${this.endDim}`;
  }
}
