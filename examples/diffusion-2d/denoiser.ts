// The denoiser: a small MLP on [scaled x_t, sinusoidal embedding of t] that predicts x_0,
// built from @gpt/nn's Linear and Sequential.
//
// The MLP's output is not x_0 itself. With x~ = x_t / sqrt(alphaBar) = x_0 + sigma eps
// (sigma² = (1 - alphaBar) / alphaBar), the prediction is
//   x_0^ = c_skip x~ + c_out F(c_in x~, t),  c_skip = s² / (sigma² + s²),
//   c_out = sigma s / sqrt(sigma² + s²),     c_in = 1 / sqrt(sigma² + s²),
// with s the data's std (Karras et al. 2022's preconditioning). c_skip x~ is already the best
// linear estimate of x_0, so the network only learns a unit-scale correction at every noise
// level. Training weights each example's x_0 MSE by lossWeights(t) = 1 / c_out², which makes
// the network's own error unit-scale at every t: with the plain x_0 MSE the small-t errors
// (of size sigma) hardly count, and the samples come out blurred (with this parametrization)
// or squeezed onto thin arcs (with an MLP that outputs x_0 directly).

import { extractIntoTensor } from '@gpt/diffusion';
import { Linear, Module, ReLU, Sequential } from '@gpt/nn';
import { cast, concat, cos, reshape, sin, sqrt, tensor, tidy, type Generator, type Tensor } from '@gpt/tensor';

export interface DenoiserOptions {
  hidden: number;
  /** width of the timestep embedding (even) */
  embedDim: number;
  /** alphaBar_t of the diffusion the model is trained for (indexed by the model's timesteps) */
  alphasCumprod: Float64Array;
  /** std of the data along each axis */
  dataStd: number;
  generator: Generator;
}

export class Denoiser extends Module {
  net: Sequential;
  readonly embedDim: number;
  private readonly alphasCumprod: Float32Array;
  private readonly dataVariance: number;

  constructor({ hidden, embedDim, alphasCumprod, dataStd, generator }: DenoiserOptions) {
    super();
    if (embedDim % 2 !== 0) throw new Error(`Denoiser: embedDim must be even, got ${embedDim}`);
    this.embedDim = embedDim;
    this.alphasCumprod = Float32Array.from(alphasCumprod);
    this.dataVariance = dataStd * dataStd;
    this.net = new Sequential(
      new Linear(2 + embedDim, hidden, { generator }),
      new ReLU(),
      new Linear(hidden, hidden, { generator }),
      new ReLU(),
      new Linear(hidden, hidden, { generator }),
      new ReLU(),
      new Linear(hidden, 2, { generator }),
    );
  }

  /** x_t [B, 2] and int32 timesteps t [B] -> prediction of x_0 [B, 2] */
  forward(x: Tensor, t: Tensor): Tensor {
    return tidy(() => {
      const alphaBar = extractIntoTensor(this.alphasCumprod, t, 2); // [B, 1]
      const scaled = x.div(sqrt(alphaBar)); // [B, 2] x~ = x_0 + sigma eps
      const sigma2 = alphaBar.mul(-1).add(1).div(alphaBar); // [B, 1]
      const total = sigma2.add(this.dataVariance); // [B, 1] sigma² + s²
      const cSkip = total.pow(-1).mul(this.dataVariance); // [B, 1]
      const cOut = sqrt(sigma2.mul(this.dataVariance).div(total)); // [B, 1]
      const cIn = total.pow(-0.5); // [B, 1]
      const input = concat([scaled.mul(cIn), this.embed(t)], 1); // [B, 2 + E]
      const correction = this.net.forward(input); // [B, 2]
      return scaled.mul(cSkip).add(correction.mul(cOut)); // [B, 2]
    });
  }

  /** [B] weights 1 / c_out(t)² = (sigma² + s²) / (sigma² s²) for the x_0 MSE of each example. */
  lossWeights(t: Tensor): Tensor {
    return tidy(() => {
      const alphaBar = extractIntoTensor(this.alphasCumprod, t, 1); // [B]
      const sigma2 = alphaBar.mul(-1).add(1).div(alphaBar); // [B]
      return sigma2.add(this.dataVariance).div(sigma2.mul(this.dataVariance)); // [B]
    });
  }

  /** Transformer-style sinusoidal features of t at geometrically spaced frequencies. */
  private embed(t: Tensor): Tensor {
    const half = this.embedDim / 2;
    const frequencies = tensor(Float32Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half)), { shape: [1, half] }); // [1, E/2]
    const steps = reshape(cast(t, 'float32'), [t.shape[0]!, 1]); // [B, 1]
    const angles = steps.mul(frequencies); // [B, E/2]
    return concat([sin(angles), cos(angles)], 1); // [B, E]
  }
}
