// Small models trained on any device, used by the WebGPU parity and memory tests: an
// MLP classifier, one pre-norm transformer block (attention from matmul + softmax, a
// GELU MLP, layerNorm), and a G.pt-shaped block (18 tokens of width 64, biased matmuls,
// scaledDotProductAttention, so the fused attention kernel where the backend fuses),
// all built from tensor ops only, with an SGD step and an AdamW step (the adamUpdate op).
// Initial weights and data are drawn on the CPU with fixed seeds and copied to the
// device, so every device starts from identical numbers.

import {
  adamUpdate,
  add,
  crossEntropy,
  gelu,
  layerNorm,
  matmul,
  mse,
  mul,
  permute,
  randint,
  randn,
  relu,
  reshape,
  scaledDotProductAttention,
  slice,
  softmax,
  tidy,
  zerosLike,
  valueAndGrad,
  type Tensor,
} from '@gpt/tensor';

export interface Model {
  readonly params: Tensor[];
  readonly inputs: Tensor[];
  /** The scalar loss of `params` on `inputs`. */
  readonly loss: (params: readonly Tensor[], inputs: readonly Tensor[]) => Tensor;
}

async function onDevice(tensors: Tensor[], device: string): Promise<Tensor[]> {
  const moved = await Promise.all(tensors.map((t) => t.toAsync(device)));
  for (const t of tensors) t.dispose();
  return moved;
}

/** 16 -> 32 (ReLU) -> 4 classifier on 64 random points with random labels. */
export async function mlp(device: string): Promise<Model> {
  const params = [
    randn([16, 32], { seed: 1, std: 0.25 }),
    randn([32], { seed: 2, std: 0.1 }),
    randn([32, 4], { seed: 3, std: 0.25 }),
    randn([4], { seed: 4, std: 0.1 }),
  ];
  const inputs = [randn([64, 16], { seed: 5 }), randint(0, 4, [64], { seed: 6 })];
  return {
    params: await onDevice(params, device),
    inputs: await onDevice(inputs, device),
    loss: ([w1, b1, w2, b2], [x, labels]) => {
      const h = relu(add(matmul(x!, w1!), b1!)); // [64, 32]
      const logits = add(matmul(h, w2!), b2!); // [64, 4]
      return crossEntropy(logits, labels!);
    },
  };
}

const B = 2;
const T = 8;
const C = 16;
const H = 2;
const D = C / H;

/** One pre-norm transformer block (non-causal self-attention + GELU MLP) regressing a random target. */
export async function transformerBlock(device: string): Promise<Model> {
  const params = [
    randn([C], { seed: 10, mean: 1, std: 0.1 }), // ln1 weight
    randn([C], { seed: 11, std: 0.1 }), // ln1 bias
    randn([C, 3 * C], { seed: 12, std: 0.2 }), // qkv projection
    randn([C, C], { seed: 13, std: 0.2 }), // attention output projection
    randn([C], { seed: 14, mean: 1, std: 0.1 }), // ln2 weight
    randn([C], { seed: 15, std: 0.1 }), // ln2 bias
    randn([C, 4 * C], { seed: 16, std: 0.2 }), // mlp in
    randn([4 * C], { seed: 17, std: 0.1 }),
    randn([4 * C, C], { seed: 18, std: 0.1 }), // mlp out
    randn([C], { seed: 19, std: 0.1 }),
  ];
  const inputs = [randn([B, T, C], { seed: 20 }), randn([B, T, C], { seed: 21 })];
  return {
    params: await onDevice(params, device),
    inputs: await onDevice(inputs, device),
    loss: ([ln1w, ln1b, wqkv, wo, ln2w, ln2b, w1, b1, w2, b2], [x, target]) => {
      const heads = (t: Tensor) => permute(reshape(t, [B, T, H, D]), [0, 2, 1, 3]); // [B, H, T, D]
      const a = layerNorm(x!, ln1w, ln1b); // [B, T, C]
      const qkv = matmul(a, wqkv!); // [B, T, 3C]
      const q = heads(slice(qkv, [null, null, [0, C]]));
      const k = heads(slice(qkv, [null, null, [C, 2 * C]]));
      const v = heads(slice(qkv, [null, null, [2 * C, 3 * C]]));
      const scores = mul(matmul(q, k, { transB: true }), 1 / Math.sqrt(D)); // [B, H, T, T]
      const attended = matmul(softmax(scores, -1), v); // [B, H, T, D]
      const merged = reshape(permute(attended, [0, 2, 1, 3]), [B, T, C]);
      const x1 = add(x!, matmul(merged, wo!)); // [B, T, C]
      const m = layerNorm(x1, ln2w, ln2b);
      const hidden = gelu(add(matmul(m, w1!), b1!)); // [B, T, 4C]
      const out = add(x1, add(matmul(hidden, w2!), b2!)); // [B, T, C]
      return mse(out, target!);
    },
  };
}

const GB = 4; // batch
const GT = 18; // tokens, as G.pt's smallest configs
const GC = 64; // width: rows of 64 take the GPU kernels' workgroup-per-row path
const GH = 4; // heads
const GD = GC / GH;

/**
 * A G.pt-shaped pre-norm transformer block: Linear layers as biased matmuls, attention
 * through scaledDotProductAttention (the fused kernel on backends that fuse, the composite
 * elsewhere), GELU MLP, layerNorm with affine; MSE to a random target.
 */
export async function gptBlock(device: string): Promise<Model> {
  const params = [
    randn([GC], { seed: 30, mean: 1, std: 0.1 }), // ln1 weight
    randn([GC], { seed: 31, std: 0.1 }), // ln1 bias
    // No qkv bias: the k part's true gradient is exactly zero (softmax ignores a shift shared by
    // a row's scores), and AdamW turns its rounding noise into full-size steps of either sign.
    randn([GC, 3 * GC], { seed: 32, std: 0.1 }), // qkv projection
    randn([GC, GC], { seed: 34, std: 0.1 }), // attention output projection
    randn([GC], { seed: 35, std: 0.05 }),
    randn([GC], { seed: 36, mean: 1, std: 0.1 }), // ln2 weight
    randn([GC], { seed: 37, std: 0.1 }), // ln2 bias
    randn([GC, 4 * GC], { seed: 38, std: 0.1 }), // mlp in
    randn([4 * GC], { seed: 39, std: 0.05 }),
    randn([4 * GC, GC], { seed: 40, std: 0.05 }), // mlp out
    randn([GC], { seed: 41, std: 0.05 }),
  ];
  const inputs = [randn([GB, GT, GC], { seed: 42 }), randn([GB, GT, GC], { seed: 43 })];
  return {
    params: await onDevice(params, device),
    inputs: await onDevice(inputs, device),
    loss: ([ln1w, ln1b, wqkv, wo, bo, ln2w, ln2b, w1, b1, w2, b2], [x, target]) => {
      const heads = (t: Tensor) => permute(reshape(t, [GB, GT, GH, GD]), [0, 2, 1, 3]); // [B, H, T, D]
      const a = layerNorm(x!, ln1w, ln1b); // [B, T, C]
      const qkv = matmul(a, wqkv!); // [B, T, 3C]
      const q = heads(slice(qkv, [null, null, [0, GC]]));
      const k = heads(slice(qkv, [null, null, [GC, 2 * GC]]));
      const v = heads(slice(qkv, [null, null, [2 * GC, 3 * GC]]));
      const attended = scaledDotProductAttention(q, k, v); // [B, H, T, D]
      const merged = reshape(permute(attended, [0, 2, 1, 3]), [GB, GT, GC]);
      const x1 = add(x!, matmul(merged, wo!, { bias: bo })); // [B, T, C]
      const m = layerNorm(x1, ln2w, ln2b);
      const hidden = gelu(matmul(m, w1!, { bias: b1 })); // [B, T, 4C]
      const out = add(x1, matmul(hidden, w2!, { bias: b2 })); // [B, T, C]
      return mse(out, target!);
    },
  };
}

/** One SGD step in place; returns the loss before the step (still on the device). */
export function sgdStep(model: Model, lr: number): Tensor {
  const { value, grads } = valueAndGrad((...ps: Tensor[]) => tidy(() => model.loss(ps, model.inputs)))(...model.params);
  tidy(() => {
    model.params.forEach((p, i) => p.assign(p.sub(grads[i]!.mul(lr))));
  });
  for (const g of grads) g.dispose();
  return value;
}

/** AdamW's moments and step count for a model's parameters. */
export interface AdamWState {
  readonly m: Tensor[];
  readonly v: Tensor[];
  step: number;
}

export function adamWState(model: Model): AdamWState {
  return { m: model.params.map((p) => zerosLike(p)), v: model.params.map((p) => zerosLike(p)), step: 0 };
}

/**
 * One AdamW step in place (betas 0.9/0.999, eps 1e-8, weight decay 0.01, the bias
 * corrections folded into alpha and eps as @gpt/nn's AdamW does); returns the loss before
 * the step.
 */
export function adamWStep(model: Model, state: AdamWState, lr: number): Tensor {
  const { value, grads } = valueAndGrad((...ps: Tensor[]) => tidy(() => model.loss(ps, model.inputs)))(...model.params);
  state.step++;
  const [beta1, beta2, eps, weightDecay] = [0.9, 0.999, 1e-8, 0.01];
  const c2 = Math.sqrt(1 - beta2 ** state.step);
  const scalars = { momentWeight: 1 - beta1, varianceWeight: 1 - beta2, decay: 1 - lr * weightDecay, alpha: (lr / (1 - beta1 ** state.step)) * c2, eps: eps * c2 };
  model.params.forEach((p, i) => {
    const [param, m, v] = adamUpdate(p, grads[i]!, state.m[i]!, state.v[i]!, scalars);
    p.assign(param);
    param.dispose();
    state.m[i]!.dispose();
    state.v[i]!.dispose();
    state.m[i] = m;
    state.v[i] = v;
  });
  for (const g of grads) g.dispose();
  return value;
}

export function disposeModel(model: Model): void {
  for (const t of [...model.params, ...model.inputs]) t.dispose();
}
