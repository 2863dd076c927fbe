// A chain of layers stored under "0", "1", ... so that state-dict keys read
// `0.weight`, `actor.2.bias` exactly as with torch.nn.Sequential.

import type { Tensor } from '@gpt/tensor';
import { Module, type Layer } from '../module.js';

export class Sequential extends Module implements Layer {
  readonly [index: number]: Layer;
  // A private field is not an own enumerable property, so it is not a second path to the children.
  readonly #layers: Layer[];

  constructor(...layers: Layer[]) {
    super();
    layers.forEach((layer, i) => {
      if (!(layer instanceof Module)) throw new Error(`Sequential: argument ${i} is not a Module`);
      (this as unknown as Record<number, Layer>)[i] = layer;
    });
    this.#layers = layers;
  }

  get length(): number {
    return this.#layers.length;
  }

  /** The layers in order. */
  layers(): Layer[] {
    return [...this.#layers];
  }

  /** Applies the layers in turn; intermediate results are disposed (autograd keeps what it needs). */
  forward(x: Tensor): Tensor {
    let current = x;
    for (const layer of this.layers()) {
      const next = layer.forward(current);
      if (current !== x) current.dispose();
      current = next;
    }
    if (current === x) throw new Error('Sequential.forward: no layers');
    return current;
  }

  [Symbol.iterator](): Iterator<Layer> {
    return this.layers()[Symbol.iterator]();
  }
}
