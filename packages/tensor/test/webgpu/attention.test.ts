// scaledDotProductAttention on WebGPU picks the fused kernel by itself for short sequences
// (on hardware adapters; software ones like llvmpipe keep the composite, measured faster
// there, unless `fusedAttention` is set): one dispatch forward and one per input gradient
// (the composite records ~10), with the CPU composite's values; past the kernel's workgroup
// memory it composes primitives again, and the op itself refuses such sizes with the shapes
// in the message.

import { randn, scaledDotProductAttention, sum, mul, tidy, type Tensor } from '@gpt/tensor';
import { runOp } from '@gpt/tensor/internal';
import { isSoftwareAdapter, probeWebGPU } from '@gpt/tensor/webgpu-node';
import { expect, it } from 'vitest';
import { describeWebGPU } from './webgpu-suite.js';

/** The ops `fn` makes the backend run, in order. */
function recordOps(backend: { run: (...args: never[]) => unknown }, fn: () => void): string[] {
  const seen: string[] = [];
  const original = backend.run;
  backend.run = function (this: unknown, op: string, ...rest: unknown[]) {
    seen.push(op);
    return (original as (...a: unknown[]) => unknown).call(this, op, ...rest);
  } as typeof backend.run;
  try {
    fn();
  } finally {
    backend.run = original;
  }
  return seen;
}

function maxAbsDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

/** Forward and q/k/v gradients of sum(attention · r) on `device`, from CPU-made inputs. */
async function run(device: string, inputs: Tensor[], record?: { run: (...args: never[]) => unknown }) {
  const [q, k, v, r] = await Promise.all(inputs.map((t) => t.toAsync(device)));
  for (const t of [q!, k!, v!]) t.requiresGrad = true;
  let ops: string[] = [];
  const out = tidy(() => {
    let y: Tensor | null = null;
    const body = () => {
      y = scaledDotProductAttention(q!, k!, v!);
      sum(mul(y, r!)).backward();
    };
    if (record) ops = recordOps(record, body);
    else body();
    return y!;
  });
  const values = await Promise.all([out, q!.grad!, k!.grad!, v!.grad!].map((t) => t.data()));
  for (const t of [q!, k!, v!, r!, out]) t.dispose();
  return { values, ops };
}

describeWebGPU('fused attention on WebGPU', (gpu) => {
  it('is on by default on hardware adapters and off on software ones', async () => {
    const probe = await probeWebGPU();
    if (!probe.available) throw new Error(probe.reason);
    expect(gpu().fusedAttention).toBe(!isSoftwareAdapter(probe.adapter));
    expect(isSoftwareAdapter({ vendor: 'mesa', architecture: '', device: 'llvmpipe (LLVM 15.0.6, 256 bits)', description: '', isFallbackAdapter: false })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'hopper', device: 'NVIDIA H200', description: '', isFallbackAdapter: false })).toBe(false);
  });

  for (const [tokens, headDim] of [
    [18, 64],
    [26, 128],
    [7, 32],
  ] as const) {
    it(`T ${tokens}, head dim ${headDim}: one dispatch forward, one per gradient, the CPU composite's values`, async () => {
      const inputs = [randn([3, 2, tokens, headDim], { seed: 1 }), randn([3, 2, tokens, headDim], { seed: 2 }), randn([3, 2, tokens, headDim], { seed: 3 }), randn([3, 2, tokens, headDim], { seed: 4 })];
      const cpu = await run('cpu', inputs);
      const previous = gpu().fusedAttention;
      gpu().fusedAttention = true;
      const gpuRun = await run('webgpu', inputs, gpu()).finally(() => (gpu().fusedAttention = previous));
      expect(gpuRun.ops.filter((op) => op === 'attention')).toHaveLength(1);
      expect(gpuRun.ops.filter((op) => op === 'attentionBackward')).toHaveLength(3);
      expect(gpuRun.ops).not.toContain('matmul');
      expect(gpuRun.ops).not.toContain('softmax');
      cpu.values.forEach((expected, i) => {
        const scale = Math.max(...Array.from(expected, Math.abs));
        expect(maxAbsDifference(gpuRun.values[i]!, expected) / scale, ['output', 'dq', 'dk', 'dv'][i]).toBeLessThan(2e-5);
      });
      for (const t of inputs) t.dispose();
    });
  }

  it('composes primitives past the kernel (T 40: 1600 scores > 1024) with the same values', async () => {
    const inputs = [randn([2, 40, 8], { seed: 5 }), randn([2, 40, 8], { seed: 6 }), randn([2, 40, 8], { seed: 7 }), randn([2, 40, 8], { seed: 8 })];
    const cpu = await run('cpu', inputs);
    const previous = gpu().fusedAttention;
    gpu().fusedAttention = true;
    const gpuRun = await run('webgpu', inputs, gpu()).finally(() => (gpu().fusedAttention = previous));
    expect(gpuRun.ops).not.toContain('attention');
    expect(gpuRun.ops).toContain('softmax');
    cpu.values.forEach((expected, i) => expect(maxAbsDifference(gpuRun.values[i]!, expected)).toBeLessThan(1e-4));
    for (const t of inputs) t.dispose();
  });

  it('the op refuses sizes past its workgroup memory, naming the shapes', () => {
    const [q, k] = [randn([2, 40, 8], { device: 'webgpu' }), randn([2, 40, 8], { device: 'webgpu' })];
    expect(() => runOp('attention', [q, k, k], { scale: 1 })).toThrow(
      'attention: q [2, 40, 8] and k [2, 40, 8] give 40 x 40 scores per item, more than the WebGPU kernel\'s 1024; scaledDotProductAttention composes primitives for such sizes',
    );
    q.dispose();
    k.dispose();
  });
});
