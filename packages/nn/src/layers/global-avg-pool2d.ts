// Global average pooling over the spatial axes: [N, C, H, W] -> [N, C]. This is
// AdaptiveAvgPool2d((1, 1)) followed by flattening, as in the G.pt CIFAR-10 ConvNet.

import { globalAvgPool2d, type Tensor } from '@gpt/tensor';
import { Module, type Layer } from '../module.js';

export class GlobalAvgPool2d extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return globalAvgPool2d(x);
  }
}
