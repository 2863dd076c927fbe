// Elementwise activation layers (parameter-free modules for Sequential).

import { gelu, relu, selu, sigmoid, tanh, type Tensor } from '@gpt/tensor';
import { Module, type Layer } from '../module.js';

export class ReLU extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** Exact (erf) GELU, PyTorch's default approximate='none'. */
export class GELU extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return gelu(x);
  }
}

export class SELU extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return selu(x);
  }
}

export class Tanh extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

export class Sigmoid extends Module implements Layer {
  forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}
