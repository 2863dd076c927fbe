// The WebGPU backend beyond the conformance suite: the Philox stream against the
// CPU's, the kernel variants only large shapes reach (workgroup-per-row reductions,
// 2-D dispatch grids), pooling and batching, limits, and loud failures (bad indices,
// GPU errors, a lost device).

import {
  arange,
  argmax,
  conv2d,
  gather,
  Generator,
  layerNorm,
  logSoftmax,
  matmul,
  max,
  memory,
  min,
  rand,
  randn,
  softmax,
  sum,
  tensor,
  zeros,
  type Tensor,
} from '@gpt/tensor';
import { initWebGPU } from '@gpt/tensor/webgpu-node';
import { expect, it } from 'vitest';
import { describeWebGPU } from './webgpu-suite.js';

/** Runs `fn` on the CPU and on WebGPU with the same (CPU-made) inputs; returns both outputs' data. */
async function onBoth(inputs: Tensor[], fn: (...xs: Tensor[]) => Tensor): Promise<{ cpu: ArrayLike<number>; gpu: ArrayLike<number> }> {
  const onGpu = await Promise.all(inputs.map((t) => t.toAsync('webgpu')));
  const c = fn(...inputs);
  const g = fn(...onGpu);
  const result = { cpu: await c.data(), gpu: await g.data() };
  for (const t of [...inputs, ...onGpu, c, g]) t.dispose();
  return result;
}

function maxRelativeError(actual: ArrayLike<number>, expected: ArrayLike<number>, floor = 1): number {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(floor, Math.abs(expected[i]!)));
  }
  return worst;
}

/** |actual - expected| <= atol + rtol * |expected| everywhere. */
function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol: number, atol: number): void {
  expect(actual.length).toBe(expected.length);
  let bad = 0;
  for (let i = 0; i < actual.length; i++) if (!(Math.abs(actual[i]! - expected[i]!) <= atol + rtol * Math.abs(expected[i]!))) bad++;
  expect(bad, `values outside rtol ${rtol}, atol ${atol}`).toBe(0);
}

describeWebGPU('webgpu backend', (gpu) => {
  it('draws the CPU backend\'s uniform bits exactly, across a 2^32 block-counter boundary', async () => {
    for (const [seed, counter, size] of [[0, 0, 1], [7, 5, 4099], [123456789012, 2 ** 32 - 3, 37]] as const) {
      const g = new Generator(seed);
      g.setState({ key: g.getState().key, counter });
      const h = new Generator(seed);
      h.setState({ key: h.getState().key, counter });
      const cpu = rand([size], { generator: g });
      const onGpu = rand([size], { generator: h, device: 'webgpu' });
      expect(Array.from(await onGpu.data())).toEqual(Array.from(await cpu.data()));
      cpu.dispose();
      onGpu.dispose();
    }
  });

  it('draws normals that match the CPU\'s to float32 precision', async () => {
    const cpu = randn([10_000], { seed: 11 });
    const onGpu = randn([10_000], { seed: 11, device: 'webgpu' });
    const c = await cpu.data();
    const g = await onGpu.data();
    // Same Box-Muller pairs; the GPU evaluates log/cos/sin in float32, the CPU in float64.
    let worst = 0;
    for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(g[i]! - c[i]!));
    expect(worst).toBeLessThan(2e-5);
    cpu.dispose();
    onGpu.dispose();
  });

  it('reduces long axes (a workgroup per output when outputs are few, else an invocation each)', async () => {
    const x = randn([3, 1000, 5], { seed: 1 });
    for (const fn of [(t: Tensor) => sum(t, 1), (t: Tensor) => sum(t), (t: Tensor) => max(t, [0, 1]), (t: Tensor) => min(t, 1)]) {
      const { cpu, gpu: g } = await onBoth([x.detach()], fn);
      expect(maxRelativeError(g, cpu)).toBeLessThan(1e-5);
    }
    x.dispose();
    const wide = randn([300, 2, 700], { seed: 12 });
    for (const fn of [(t: Tensor) => sum(t, [0, 2]), (t: Tensor) => sum(t, 2), (t: Tensor) => max(t, [2, 0])]) {
      const { cpu, gpu: g } = await onBoth([wide.detach()], fn);
      expect(maxRelativeError(g, cpu)).toBeLessThan(1e-5);
    }
    wide.dispose();
  });

  it('runs softmax, logSoftmax and layerNorm on long rows (a workgroup per row when rows are few)', async () => {
    for (const shape of [[4, 700], [300, 300]]) {
      const x = randn(shape, { seed: 2, std: 3 });
      for (const fn of [(t: Tensor) => softmax(t, -1), (t: Tensor) => logSoftmax(t, -1), (t: Tensor) => softmax(t, 0), (t: Tensor) => layerNorm(t)]) {
        const { cpu, gpu: g } = await onBoth([x.detach()], fn);
        expectClose(g, cpu, 2e-5, 1e-6);
      }
      x.dispose();
    }
  });

  it('splits a dispatch of more than 65,535 workgroups over a 2-D grid', async () => {
    const n = 65_536 * 64 + 100; // one invocation per element, 64 per workgroup
    const x = arange(0, n, 1, { dtype: 'float32', device: 'webgpu' });
    const y = x.mul(2);
    const values = await y.data();
    let wrong = 0;
    for (let i = 0; i < n; i++) if (values[i] !== 2 * i) wrong++;
    expect(wrong).toBe(0);
    x.dispose();
    y.dispose();
  });

  it('multiplies odd-sized, transposed and batch-broadcast matrices like the CPU (every matmul kernel)', async () => {
    // Covers every kernel (rows: n % 4 == 0 without transB; rows-at: also transA with m % 4 == 0;
    // dot: A B^T with k % 4 == 0; generic) at ragged edges.
    const cases: [number[], number[], { transA?: boolean; transB?: boolean }][] = [
      [[2, 33, 17], [17, 68], {}],
      [[20, 37], [20, 68], { transA: true }],
      [[2, 20, 36], [20, 68], { transA: true }],
      [[37, 20], [3, 35, 20], { transB: true }],
      [[33, 17], [17, 65], {}],
      [[17, 33], [65, 17], { transA: true, transB: true }],
      [[2, 1, 5, 7], [3, 7, 6], {}],
      [[3, 5, 7], [7, 1], { transA: false }],
    ];
    for (const [sa, sb, opts] of cases) {
      const a = randn(sa, { seed: 4 });
      const b = randn(sb, { seed: 5 });
      const { cpu, gpu: g } = await onBoth([a, b], (p, q) => matmul(p!, q!, opts));
      expect(maxRelativeError(g, cpu)).toBeLessThan(1e-5);
    }
  });

  it('runs conv2d with channel counts that are not multiples of 4', async () => {
    const x = randn([2, 3, 9, 8], { seed: 6 });
    const w = randn([5, 3, 3, 2], { seed: 7 });
    const { cpu, gpu: g } = await onBoth([x, w], (p, q) => conv2d(p!, q!, null, { stride: [2, 1], padding: [1, 0] }));
    expect(maxRelativeError(g, cpu)).toBeLessThan(1e-5);
  });

  it('takes the first NaN (or first extreme) in argmax, like the CPU', async () => {
    const x = tensor([[1, NaN, 3, NaN], [2, 5, 5, 1]], { device: 'webgpu' });
    const i = argmax(x, 1);
    expect(Array.from(await i.data())).toEqual([1, 1]);
    x.dispose();
    i.dispose();
  });

  it('round-trips bool, int32 and empty tensors', async () => {
    const b = tensor([true, false, true], { device: 'webgpu' });
    const n = tensor(new Int32Array([-5, 0, 2 ** 31 - 1]), { device: 'webgpu' });
    const e = zeros([0, 3], { device: 'webgpu' });
    expect(Array.from(await b.data())).toEqual([1, 0, 1]);
    expect(Array.from(await n.data())).toEqual([-5, 0, 2 ** 31 - 1]);
    expect((await e.data()).length).toBe(0);
    for (const t of [b, n, e]) t.dispose();
  });

  it('batches the reads of one tick into one submit', async () => {
    const xs = [1, 2, 3, 4, 5].map((v) => tensor([v, v + 1], { device: 'webgpu' }).mul(2));
    await gpu().sync();
    const before = gpu().stats().submits;
    const values = await Promise.all(xs.map((x) => x.data()));
    expect(values.map((v) => v[0])).toEqual([2, 4, 6, 8, 10]);
    expect(gpu().stats().submits - before).toBe(1);
    for (const x of xs) x.dispose();
  });

  it('recycles a freed buffer only after the commands using it are submitted', async () => {
    await gpu().sync();
    const x = rand([1000], { seed: 9, device: 'webgpu' });
    const y = x.neg();
    x.dispose();
    // Freed while its reader (y's kernel) is recorded but not submitted: not in the pool yet.
    expect(gpu().stats().retiringBuffers).toBe(1);
    const pooled = gpu().stats().pooledBuffers;
    await gpu().sync();
    expect(gpu().stats().retiringBuffers).toBe(0);
    expect(gpu().stats().pooledBuffers).toBe(pooled + 1);
    expect(memory().devices.webgpu!.pooledBuffers).toBe(pooled + 1);
    const z = rand([1000], { seed: 10, device: 'webgpu' });
    expect(gpu().stats().pooledBuffers).toBe(pooled);
    y.dispose();
    z.dispose();
  });

  it('keeps results right when freed buffers are reused by uploads across many submits', async () => {
    // Each upload may land in the buffer of the previous (already disposed) input, whose
    // reader may still be unsubmitted; recycling too early would overwrite its data.
    const outputs: Tensor[] = [];
    for (let i = 0; i < 600; i++) {
      const x = tensor(new Float32Array(64).fill(i), { device: 'webgpu' });
      outputs.push(x.mul(2));
      x.dispose();
    }
    const values = await Promise.all(outputs.map((t) => t.data()));
    const wrong = values.filter((v, i) => v.some((e) => e !== 2 * i)).length;
    expect(wrong).toBe(0);
    for (const t of outputs) t.dispose();
  });

  it('names the adapter limit when a tensor cannot fit in one storage binding', () => {
    const limit = gpu().limits.maxStorageBufferBindingSize;
    const elements = Math.floor(limit / 4) + 1;
    expect(() => zeros([elements], { device: 'webgpu' })).toThrow(/maxStorageBufferBindingSize/);
  });

  it('fails the next read when gather meets an index out of range', async () => {
    const x = tensor([[1, 2], [3, 4]], { device: 'webgpu' });
    const bad = tensor(new Int32Array([0, 5, 1, 0]), { shape: [2, 2], device: 'webgpu' });
    const picked = gather(x, 1, bad);
    await expect(picked.data()).rejects.toThrow(/gather: an index was out of range/);
    // The flag is cleared: valid work reads normally afterwards.
    const good = tensor(new Int32Array([1, 0, -1, 0]), { shape: [2, 2], device: 'webgpu' });
    const ok = gather(x, 1, good);
    expect(Array.from(await ok.data())).toEqual([2, 1, 4, 3]);
    for (const t of [x, bad, picked, good, ok]) t.dispose();
  });

  it('surfaces uncaptured GPU errors as an event and a failed read', async () => {
    const seen: string[] = [];
    const onError = (event: Event) => seen.push((event as CustomEvent<{ message: string }>).detail.message);
    gpu().addEventListener('gpuerror', onError);
    // Provoke a validation error directly on the device (no public API produces one).
    const device = (gpu() as unknown as { device: { createBuffer(d: object): unknown } }).device;
    device.createBuffer({ size: 16, usage: 0x0001 | 0x0080 }); // MAP_READ with STORAGE is invalid
    const x = tensor([1, 2], { device: 'webgpu' });
    await expect(x.data()).rejects.toThrow(/reported an error/);
    expect(seen.length).toBe(1);
    expect(Array.from(await x.data())).toEqual([1, 2]);
    gpu().removeEventListener('gpuerror', onError);
    x.dispose();
  });

  it('makes tensors of a lost device fail loudly', async () => {
    const doomed = await initWebGPU({ name: 'webgpu-doomed' });
    const x = tensor([1, 2, 3], { device: 'webgpu-doomed' });
    const lost = new Promise<string>((resolve) =>
      doomed.addEventListener('devicelost', (e) => resolve((e as CustomEvent<{ reason: string }>).detail.reason)),
    );
    doomed.destroy();
    expect(await lost).toMatch(/destroy/);
    expect(doomed.isLost).toBe(true);
    await expect(x.data()).rejects.toThrow(/was lost/);
    expect(() => x.add(1)).toThrow(/was lost/);
    expect(() => tensor([1], { device: 'webgpu-doomed' })).toThrow(/was lost/);
    x.dispose();
  });
});
