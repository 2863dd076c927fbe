// Gradient clipping by global norm, like torch.nn.utils.clip_grad_norm_ (PyTorch 1.13):
// every gradient is scaled by min(1, maxNorm / (totalNorm + 1e-6)). The scale is
// applied as a tensor so no device read-back is needed.

import { add, clamp, div, keep, mul, noGrad, sqrt, sum, tidy, type Tensor } from '@gpt/tensor';

/** Clips the gradients in place (replaces each `.grad`); returns the total 2-norm before clipping as a scalar tensor. */
export function clipGradNorm(parameters: Iterable<Tensor>, maxNorm: number): Tensor {
  if (!(Number.isFinite(maxNorm) && maxNorm > 0)) throw new Error(`clipGradNorm: maxNorm must be a positive number, got ${maxNorm}`);
  const withGrad = [...parameters].filter((p) => p.grad);
  if (withGrad.length === 0) throw new Error('clipGradNorm: none of the parameters has a gradient');
  return noGrad(() =>
    tidy(() => {
      const squares = withGrad.map((p) => sum(mul(p.grad!, p.grad!)));
      const total = sqrt(squares.reduce((a, b) => add(a, b))); // []
      const scale = clamp(div(maxNorm, add(total, 1e-6)), undefined, 1); // []
      for (const p of withGrad) {
        const clipped = keep(mul(p.grad!, scale));
        p.grad!.dispose();
        p.grad = clipped;
      }
      return total;
    }),
  );
}
