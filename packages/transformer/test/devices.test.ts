// One G.pt training step (forward, MSE, backward, AdamW) on the CPU's TypeScript kernels,
// its WASM kernels and WebGPU (skipped without an adapter unless GPT_REQUIRE_WEBGPU=1):
// the loss, every gradient and the updated parameters agree with the TypeScript run
// within the conformance suite's gradient tolerance (rtol 1e-4, atol 2e-5 of each tensor's scale).

import { AdamW, type Linear } from '@gpt/nn';
import { cpuKernelsStatus, cpuThreadsReady, getBackend, memory, mse, randn, setCpuKernels, tensor, tidy, type Tensor } from '@gpt/tensor';
import type { WebGPUBackend } from '@gpt/tensor/webgpu-node';
import { afterEach, describe, expect, it, type TestContext } from 'vitest';
import { Gpt } from '../src/index.js';
import { GPU_KERNELS_DEVICE, needWebGPU } from '../../tensor/test/need-webgpu.js';
import { CARTPOLE_SIZES } from './networks.js';

const N = 4;
const D = 1250;

interface StepResult {
  loss: number;
  output: Float32Array;
  grads: [string, Float32Array][];
  params: [string, Float32Array][];
}

/** Builds the tiny model on the CPU (same seed, decoders given values), moves it to `device`, runs one step. */
async function trainStep(device: string): Promise<StepResult> {
  const model = new Gpt(CARTPOLE_SIZES, 'tiny', { seed: 0 });
  // Decoders start at zero, which would leave every other gradient zero: give them values.
  tidy(() =>
    model.decoder.output_parameter_projections.forEach((p, j) => {
      const w = (p[0] as Linear).weight;
      w.assign(randn(w.shape, { seed: 100 + j, std: 0.05 }));
    }),
  );
  if (device !== 'cpu') model.to(device);
  const onDevice = (t: Tensor) => {
    const moved = t.to(device);
    if (moved !== t) t.dispose();
    return moved;
  };
  const [x, xPrev, target] = [1, 2, 3].map((seed) => onDevice(randn([N, D], { seed }))); // [N, D] each
  const t = onDevice(tensor([3, 250, 600, 999])); // [N]
  const optimizer = new AdamW(model.weightDecayGroups(0.1), { lr: LR });
  const [loss, output] = tidy(() => {
    const out = model.forward(x!, t, [0.5, 1, 2, 3], [1, 1.5, 2.5, 2], xPrev!); // [N, D]
    const l = mse(out, target!); // []
    l.backward();
    return [l, out];
  });
  const named = model.namedParameters();
  const grads = await Promise.all(named.map(async ([k, p]) => [k, (await p.grad!.data()) as Float32Array] as [string, Float32Array]));
  optimizer.step();
  const params = await Promise.all(named.map(async ([k, p]) => [k, (await p.data()) as Float32Array] as [string, Float32Array]));
  const result = { loss: (await loss.data())[0]!, output: (await output.data()) as Float32Array, grads, params };
  for (const v of [loss, output, x!, xPrev!, target!, t]) v.dispose();
  optimizer.zeroGrad();
  optimizer.dispose();
  model.dispose();
  return result;
}

const LR = 1e-3;

/** |a - b| <= 1e-4 |b| + 2e-5 max|b| + floor, naming the element. */
function expectAgrees(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, floor = 0): void {
  let largest = 0;
  for (let i = 0; i < expected.length; i++) largest = Math.max(largest, Math.abs(expected[i]!));
  for (let i = 0; i < expected.length; i++) {
    const allowed = 1e-4 * Math.abs(expected[i]!) + 2e-5 * largest + floor;
    if (!(Math.abs(actual[i]! - expected[i]!) <= allowed)) expect.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (allowed ${allowed.toExponential(2)})`);
  }
}

/**
 * AdamW's first step moves each element by lr g / (|g| + eps) (plus the decay, the same on both
 * sides), so a gradient known to within d (the tolerance above) gives a step known to within
 * lr d / (|g| - d + eps), at most 2 lr where d covers the sign. Parameters must agree to that.
 */
function expectStepAgrees(actual: ArrayLike<number>, expected: ArrayLike<number>, grad: ArrayLike<number>, what: string): void {
  let largestGrad = 0;
  for (let i = 0; i < grad.length; i++) largestGrad = Math.max(largestGrad, Math.abs(grad[i]!));
  for (let i = 0; i < expected.length; i++) {
    const g = Math.abs(grad[i]!);
    const d = 1e-4 * g + 2e-5 * largestGrad;
    const allowed = 1e-6 * Math.abs(expected[i]!) + LR * Math.min(2, d / (Math.max(g - d, 0) + 1e-8));
    if (!(Math.abs(actual[i]! - expected[i]!) <= allowed)) expect.fail(`${what}[${i}]: got ${actual[i]}, expected ${expected[i]} (gradient ${grad[i]}, allowed ${allowed.toExponential(2)})`);
  }
}

function expectSameStep(actual: StepResult, expected: StepResult): void {
  expectAgrees([actual.loss], [expected.loss], 'loss');
  expectAgrees(actual.output, expected.output, 'output');
  actual.grads.forEach(([k, g], i) => {
    // The key biases' gradients are zero in exact arithmetic (softmax ignores a shift shared
    // by all keys); both runs hold rounding noise, which Adam's first step scales up to ±lr.
    if (k.endsWith('attn.key.bias')) return;
    expectAgrees(g, expected.grads[i]![1], `grad ${k}`);
    expectStepAgrees(actual.params[i]![1], expected.params[i]![1], expected.grads[i]![1], `updated ${k}`);
  });
}

let reference: StepResult | null = null;
async function referenceStep(): Promise<StepResult> {
  setCpuKernels('ts');
  try {
    reference ??= await trainStep('cpu');
  } finally {
    setCpuKernels('auto');
  }
  return reference;
}

describe('one Gpt training step agrees across devices', () => {
  afterEach(() => setCpuKernels('auto'));

  it('cpu-wasm (WASM SIMD kernels, threaded) matches the TypeScript kernels', async () => {
    const expected = await referenceStep();
    const status = cpuKernelsStatus();
    expect(status.wasmReason).toBeNull();
    setCpuKernels(status.threadsReason === null ? 'wasm-threads' : 'wasm');
    await cpuThreadsReady();
    const before = memory().tensors;
    expectSameStep(await trainStep('cpu'), expected);
    expect(memory().tensors).toBe(before);
  });

  // The real-GPU kernel set (tiled matmuls, a workgroup per row, fused attention), forced on
  // whatever adapter there is (lavapipe in CI).
  it('webgpu with the GPU kernels matches the TypeScript kernels', async (context: TestContext) => {
    await needWebGPU(context, true);
    const expected = await referenceStep();
    expect((getBackend(GPU_KERNELS_DEVICE) as WebGPUBackend).kernels).toBe('gpu');
    expectSameStep(await trainStep(GPU_KERNELS_DEVICE), expected);
  });

  // Both attention paths: the fused kernel (the default on hardware GPUs) and the composite
  // (the default on software adapters such as llvmpipe).
  for (const fused of [true, false]) {
    it(`webgpu matches the TypeScript kernels (${fused ? 'fused attention kernel' : 'composite attention'})`, async (context: TestContext) => {
      await needWebGPU(context);
      const expected = await referenceStep();
      const gpu = getBackend('webgpu') as WebGPUBackend;
      const previous = gpu.fusedAttention;
      gpu.fusedAttention = fused;
      try {
        expectSameStep(await trainStep('webgpu'), expected);
      } finally {
        gpu.fusedAttention = previous;
      }
    });
  }
});
