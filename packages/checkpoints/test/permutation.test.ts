// Function preservation: a permuted network computes exactly what the original does.
// The networks are written here in float64 from their definitions (gpt-paper.md §1.2-1.4).
import { Generator } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';
import {
  CARTPOLE_TASK,
  CIFAR10_TASK,
  MNIST_TASK,
  ParameterPermuter,
  applyGather,
  taskParameterCount,
  type OfficialTask,
} from '../src/index.js';

type Params = Record<string, Float64Array>;

/** Splits a flat vector into named tensors in state-dict order. */
function unflatten(task: OfficialTask, flat: Float32Array): Params {
  const out: Params = {};
  let offset = 0;
  for (const t of task.tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    out[t.name] = Float64Array.from(flat.subarray(offset, offset + n));
    offset += n;
  }
  return out;
}

/** y = W x + b for W [out, in]. */
function linear(W: Float64Array, b: Float64Array | null, x: Float64Array, outDim: number): Float64Array {
  const inDim = x.length;
  const y = new Float64Array(outDim);
  for (let o = 0; o < outDim; o++) {
    let s = b ? b[o]! : 0;
    for (let i = 0; i < inDim; i++) s += W[o * inDim + i]! * x[i]!;
    y[o] = s;
  }
  return y;
}

const relu = (x: Float64Array) => x.map((v) => Math.max(0, v));
const SELU_ALPHA = 1.6732632423543772;
const SELU_SCALE = 1.0507009873554805;
const selu = (x: Float64Array) => x.map((v) => SELU_SCALE * (v > 0 ? v : SELU_ALPHA * (Math.exp(v) - 1)));

function mnistForward(p: Params, image: Float64Array): Float64Array {
  const h = relu(linear(p['fc1.weight']!, p['fc1.bias']!, image, 10)); // [10]
  return linear(p['fc2.weight']!, p['fc2.bias']!, h, 10); // [10]
}

/** Conv2d without bias, input [C, H, W], weight [O, C, 3, 3], zero padding 1. */
function conv3x3(x: Float64Array, C: number, H: number, W: number, weight: Float64Array, O: number, stride: number): { y: Float64Array; H: number; W: number } {
  const Ho = Math.floor((H + 2 - 3) / stride) + 1;
  const Wo = Math.floor((W + 2 - 3) / stride) + 1;
  const y = new Float64Array(O * Ho * Wo);
  for (let o = 0; o < O; o++)
    for (let i = 0; i < Ho; i++)
      for (let j = 0; j < Wo; j++) {
        let s = 0;
        for (let c = 0; c < C; c++)
          for (let di = 0; di < 3; di++)
            for (let dj = 0; dj < 3; dj++) {
              const r = i * stride + di - 1;
              const q = j * stride + dj - 1;
              if (r < 0 || r >= H || q < 0 || q >= W) continue;
              s += weight[((o * C + c) * 3 + di) * 3 + dj]! * x[(c * H + r) * W + q]!;
            }
        y[(o * Ho + i) * Wo + j] = s;
      }
  return { y, H: Ho, W: Wo };
}

function cifarForward(p: Params, image: Float64Array, size: number): Float64Array {
  const a = conv3x3(image, 3, size, size, p['conv1.weight']!, 16, 2); // [16, size/2, size/2]
  const b = conv3x3(relu(a.y), 16, a.H, a.W, p['conv2.weight']!, 32, 1); // [32, size/2, size/2]
  const h = relu(b.y);
  const pooled = new Float64Array(32); // global average pool → [32]
  for (let c = 0; c < 32; c++) {
    for (let k = 0; k < b.H * b.W; k++) pooled[c]! += h[c * b.H * b.W + k]!;
    pooled[c]! /= b.H * b.W;
  }
  return linear(p['fc.weight']!, p['fc.bias']!, pooled, 10); // [10]
}

function cartpoleForward(p: Params, obs: Float64Array): Float64Array {
  const h1 = selu(linear(p['actor.0.weight']!, p['actor.0.bias']!, obs, 32)); // [32]
  const h2 = selu(linear(p['actor.2.weight']!, p['actor.2.bias']!, h1, 32)); // [32]
  const mean = linear(p['actor.4.weight']!, p['actor.4.bias']!, h2, 1); // [1]
  return Float64Array.of(mean[0]!, p['log_std']![0]!);
}

function randomVector(generator: Generator, n: number, scale: number): Float32Array {
  return Float32Array.from(generator.uniform(n), (u) => (u * 2 - 1) * scale);
}

interface Case {
  task: OfficialTask;
  inputSize: number;
  forward: (p: Params, x: Float64Array) => Float64Array;
}

const CASES: Case[] = [
  { task: MNIST_TASK, inputSize: 784, forward: mnistForward },
  { task: CIFAR10_TASK, inputSize: 3 * 8 * 8, forward: (p, x) => cifarForward(p, x, 8) },
  { task: CARTPOLE_TASK, inputSize: 4, forward: cartpoleForward },
];

describe('permutation augmentation preserves the function', () => {
  it.each(CASES)('$task.name: permuted parameters give the same outputs on random inputs', ({ task, inputSize, forward }) => {
    const generator = new Generator(7);
    const D = taskParameterCount(task);
    expect(D).toBe({ mnist: 7960, cifar10: 5370, cartpole: 1250 }[task.name]);
    const permuter = new ParameterPermuter(task.permutation);
    const theta = randomVector(generator, D, 0.5);
    const inputs = Array.from({ length: 4 }, () => Float64Array.from(randomVector(generator, inputSize, 1)));
    for (let draw = 0; draw < 5; draw++) {
      const index = permuter.randomIndex(generator);
      const permuted = applyGather(theta, index);
      expect(permuted).not.toEqual(theta);
      expect(permuted.slice().sort()).toEqual(theta.slice().sort()); // same multiset of values
      for (const x of inputs) {
        const a = forward(unflatten(task, theta), x);
        const b = forward(unflatten(task, permuted), x);
        for (let i = 0; i < a.length; i++) expect(b[i]).toBeCloseTo(a[i]!, 10);
      }
    }
  });

  it('a permutation that forgets the consuming layer changes the outputs (the check above can fail)', () => {
    const generator = new Generator(3);
    const broken = new ParameterPermuter({
      tensors: MNIST_TASK.tensors,
      groups: [{ size: 10, members: [{ tensor: 'fc1.weight', axis: 0 }, { tensor: 'fc1.bias', axis: 0 }] }],
    });
    const theta = randomVector(generator, 7960, 0.5);
    const x = Float64Array.from(randomVector(generator, 784, 1));
    const a = mnistForward(unflatten(MNIST_TASK, theta), x);
    const b = mnistForward(unflatten(MNIST_TASK, applyGather(theta, broken.randomIndex(generator))), x);
    expect(Math.max(...a.map((v, i) => Math.abs(v - b[i]!)))).toBeGreaterThan(1e-3);
  });

  it("follows torch's indexing: new unit u is old unit perm[u] in rows and columns", () => {
    const permuter = new ParameterPermuter(MNIST_TASK.permutation);
    const perm = Int32Array.of(3, 0, 9, 1, 2, 4, 5, 6, 8, 7);
    const theta = Float32Array.from({ length: 7960 }, (_, i) => i);
    const out = applyGather(theta, permuter.indexFor([perm]));
    const p = unflatten(MNIST_TASK, theta);
    const q = unflatten(MNIST_TASK, out);
    for (let u = 0; u < 10; u++) {
      expect(q['fc1.bias']![u]).toBe(p['fc1.bias']![perm[u]!]);
      expect(q['fc1.weight']![u * 784 + 17]).toBe(p['fc1.weight']![perm[u]! * 784 + 17]);
      expect(q['fc2.weight']![4 * 10 + u]).toBe(p['fc2.weight']![4 * 10 + perm[u]!]);
      expect(q['fc2.bias']![u]).toBe(p['fc2.bias']![u]); // not permuted
    }
    const identity = permuter.indexFor([Int32Array.from({ length: 10 }, (_, i) => i)]);
    expect(identity).toEqual(Int32Array.from({ length: 7960 }, (_, i) => i));
  });

  it('rejects specs that do not fit the tensors, naming the problem', () => {
    const tensors = MNIST_TASK.tensors;
    expect(() => new ParameterPermuter({ tensors, groups: [{ size: 10, members: [{ tensor: 'fc3.weight', axis: 0 }] }] })).toThrow(/unknown tensor "fc3\.weight"/);
    expect(() => new ParameterPermuter({ tensors, groups: [{ size: 10, members: [{ tensor: 'fc1.weight', axis: 1 }] }] })).toThrow(
      /10 units but axis 1 of "fc1\.weight" has length 784/,
    );
    expect(() => new ParameterPermuter({ tensors, groups: [{ size: 10, members: [{ tensor: 'fc1.bias', axis: 1 }] }] })).toThrow(/has no axis 1/);
    const twice = { size: 10, members: [{ tensor: 'fc1.bias', axis: 0 }] };
    expect(() => new ParameterPermuter({ tensors, groups: [twice, twice] })).toThrow(/belongs to two groups/);
  });
});
