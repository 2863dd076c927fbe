// Layer normalization over the last axis, like torch.nn.LayerNorm(d).

import { layerNorm, ones, zeros, type Tensor } from '@gpt/tensor';
import { Module, parameter, type Layer } from '../module.js';

export interface LayerNormOptions {
  eps?: number;
  /** Learnable weight (ones) and bias (zeros); default true. */
  elementwiseAffine?: boolean;
  device?: string;
}

export class LayerNorm extends Module implements Layer {
  /** [d], or null without affine parameters */
  weight: Tensor | null;
  bias: Tensor | null;
  readonly eps: number;
  readonly normalizedSize: number;

  /** `normalizedShape`: the size of the last axis (or [size]; only the last axis is normalized). */
  constructor(
    normalizedShape: number | readonly [number],
    options: LayerNormOptions = {},
  ) {
    super();
    const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    if (shape.length !== 1 || !Number.isInteger(shape[0]) || shape[0]! <= 0) {
      throw new Error(`LayerNorm: normalizedShape must be one positive integer (the last axis), got ${JSON.stringify(normalizedShape)}`);
    }
    this.eps = options.eps ?? 1e-5;
    const affine = options.elementwiseAffine ?? true;
    this.weight = affine ? parameter(ones(shape, { device: options.device })) : null;
    this.bias = affine ? parameter(zeros(shape, { device: options.device })) : null;
    this.normalizedSize = shape[0]!;
  }

  /** [..., d] -> [..., d] */
  forward(x: Tensor): Tensor {
    if (x.shape.at(-1) !== this.normalizedSize) {
      throw new Error(`LayerNorm.forward: input [${x.shape.join(', ')}] should end in ${this.normalizedSize}`);
    }
    return layerNorm(x, this.weight, this.bias, this.eps);
  }

  protected override extraRepr(): string {
    return `${this.normalizedSize}, eps=${this.eps}, elementwiseAffine=${this.weight !== null}`;
  }
}
