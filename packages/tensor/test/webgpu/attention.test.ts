// scaledDotProductAttention on WebGPU picks the fused kernel by itself for short sequences
// (on hardware adapters; software ones like llvmpipe keep the composite, measured faster
// there, unless `fusedAttention` is set): one dispatch forward and one per input gradient
// (the composite records ~10), with the CPU composite's values; past the kernel's workgroup
// memory it composes primitives again, and the op itself refuses such sizes with the shapes
// and the device's limit in the message. The kernel's capacity follows the device's
// workgroup memory: T <= 64 on 32 KiB (lavapipe), checked here with the 'gpu' kernels
// (256 invocations per workgroup) forced on.

import { getBackend, randn, removeBackend, scaledDotProductAttention, sum, mul, tidy, type Tensor } from '@gpt/tensor';
import { runOp } from '@gpt/tensor/internal';
import { initWebGPU, isSoftwareAdapter, probeWebGPU, type WebGPUBackend } from '@gpt/tensor/webgpu-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attentionFits } from '../../src/webgpu/kernels/attention.js';
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

  /** Fused values on `device` (forced on) against the CPU composite, and the fused ops recorded. */
  async function expectFusedMatchesCpu(device: string, backend: WebGPUBackend, inputs: Tensor[]): Promise<void> {
    const cpu = await run('cpu', inputs);
    const previous = backend.fusedAttention;
    backend.fusedAttention = true;
    const gpuRun = await run(device, inputs, backend).finally(() => (backend.fusedAttention = previous));
    expect(gpuRun.ops.filter((op) => op === 'attention')).toHaveLength(1);
    expect(gpuRun.ops.filter((op) => op === 'attentionBackward')).toHaveLength(3);
    expect(gpuRun.ops).not.toContain('softmax');
    cpu.values.forEach((expected, i) => {
      const scale = Math.max(...Array.from(expected, Math.abs));
      expect(maxAbsDifference(gpuRun.values[i]!, expected) / scale, ['output', 'dq', 'dk', 'dv'][i]).toBeLessThan(2e-5);
    });
  }

  it('takes sizes by workgroup memory: both score arrays of the gradient kernels must fit', () => {
    expect(attentionFits(32, 32)).toBe(true); // 16 KiB, the WebGPU minimum, unless told
    expect(attentionFits(45, 45, 16384)).toBe(true); // 2025 scores: two 8 KiB arrays
    expect(attentionFits(46, 46, 16384)).toBe(false);
    expect(attentionFits(64, 64, 32768)).toBe(true); // two 16 KiB arrays
    expect(attentionFits(65, 64, 32768)).toBe(false);
    expect(attentionFits(18, 64, 32768)).toBe(true); // Tq != Tk: only the product counts
  });

  describe('with the gpu kernels (T 40-64)', () => {
    const device = 'attention-gpu-kernels';
    let backend: WebGPUBackend | null = null;
    beforeAll(async () => {
      if ((await probeWebGPU()).available) backend = await initWebGPU({ name: device, kernels: 'gpu' });
    });
    afterAll(() => {
      backend?.destroy();
      if (backend) removeBackend(device);
    });
    const gpuKernels = () => {
      if (!backend) throw new Error('WebGPU backend not initialized');
      return backend;
    };

    for (const [batch, tokens, headDim] of [
      [[2, 2], 40, 64],
      [[3], 50, 12],
      [[2, 2], 64, 64],
      [[2], 64, 6],
    ] as const) {
      it(`T ${tokens}, head dim ${headDim}: fused forward and gradients, the CPU composite's values`, async () => {
        expect(gpuKernels().kernels).toBe('gpu');
        expect(getBackend(device).fusesAttention?.(tokens, tokens)).toBe(true);
        const shape = [...batch, tokens, headDim];
        const inputs = [1, 2, 3, 4].map((seed) => randn(shape, { seed: seed + tokens }));
        await expectFusedMatchesCpu(device, gpuKernels(), inputs);
        for (const t of inputs) t.dispose();
      });
    }

    it("Tq 20 x Tk 64 (cross attention shapes): fused, the CPU composite's values", async () => {
      const q = randn([2, 20, 16], { seed: 9 });
      const [k, v] = [randn([2, 64, 16], { seed: 10 }), randn([2, 64, 16], { seed: 11 })];
      const r = randn([2, 20, 16], { seed: 12 });
      await expectFusedMatchesCpu(device, gpuKernels(), [q, k, v, r]);
      for (const t of [q, k, v, r]) t.dispose();
    });

    it('composes primitives past the kernel (T 80: 6400 scores > 4096) with the same values', async () => {
      const inputs = [5, 6, 7, 8].map((seed) => randn([2, 80, 8], { seed }));
      const cpu = await run('cpu', inputs);
      const gpuRun = await run(device, inputs, gpuKernels());
      expect(gpuRun.ops).not.toContain('attention');
      expect(gpuRun.ops).toContain('softmax');
      cpu.values.forEach((expected, i) => expect(maxAbsDifference(gpuRun.values[i]!, expected)).toBeLessThan(1e-4));
      for (const t of inputs) t.dispose();
    });

    it('the op refuses sizes past its workgroup memory, naming the shapes and the device limit', () => {
      const [q, k] = [randn([2, 80, 8], { device }), randn([2, 80, 8], { device })];
      expect(() => runOp('attention', [q, k, k], { scale: 1 })).toThrow(
        /^attention: q \[2, 80, 8\] and k \[2, 80, 8\] give 80 x 80 scores per item, more than the WebGPU kernel holds here \(\d+: 1 f32 array of scores within this device's maxComputeWorkgroupStorageSize of \d+ bytes\); scaledDotProductAttention composes primitives for such sizes$/,
      );
      const g = randn([2, 80, 8], { device });
      expect(() => runOp('attentionBackward', [g, q, k, k], { scale: 1, wrt: 'q' })).toThrow(/2 f32 arrays of scores within this device's maxComputeWorkgroupStorageSize/);
      for (const t of [q, k, g]) t.dispose();
    });
  });
});
