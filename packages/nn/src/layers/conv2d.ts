// 2-D convolution layer over NCHW images, like torch.nn.Conv2d (no groups or dilation).

import { conv2d, type RandomOptions, type Tensor } from '@gpt/tensor';
import { defaultLayerInit } from '../init.js';
import { Module, parameter, type Layer } from '../module.js';

type Pair = number | readonly [number, number];

export interface Conv2dOptions extends RandomOptions {
  stride?: Pair;
  padding?: Pair;
  /** Add a learnable per-channel bias (default true). */
  bias?: boolean;
}

function toPair(name: string, v: Pair): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((d) => Number.isInteger(d) && d >= 0)) throw new Error(`Conv2d: ${name} must be non-negative integers, got ${String(v)}`);
  return p;
}

export class Conv2d extends Module implements Layer {
  /** [out, in, kh, kw] */
  weight: Tensor;
  /** [out], or null without bias */
  bias: Tensor | null;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];

  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    kernelSize: Pair,
    options: Conv2dOptions = {},
  ) {
    super();
    for (const [name, v] of [['inChannels', inChannels], ['outChannels', outChannels]] as const) {
      if (!Number.isInteger(v) || v <= 0) throw new Error(`Conv2d: ${name} must be a positive integer, got ${v}`);
    }
    const { stride = 1, padding = 0, bias = true, ...random } = options;
    this.kernelSize = toPair('kernelSize', kernelSize);
    this.stride = toPair('stride', stride);
    this.padding = toPair('padding', padding);
    if (this.kernelSize.some((k) => k === 0) || this.stride.some((s) => s === 0)) {
      throw new Error(`Conv2d: kernelSize and stride must be positive, got ${String(kernelSize)} and ${String(stride)}`);
    }
    const init = defaultLayerInit([outChannels, inChannels, ...this.kernelSize], bias, random);
    this.weight = parameter(init.weight);
    this.bias = init.bias && parameter(init.bias);
  }

  /** [N, in, H, W] -> [N, out, H', W'] */
  forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels) {
      throw new Error(`Conv2d.forward: input [${x.shape.join(', ')}] should be [N, ${this.inChannels}, H, W]`);
    }
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding });
  }

  protected override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=[${this.kernelSize}], stride=[${this.stride}], padding=[${this.padding}], bias=${this.bias !== null}`;
  }
}
