// Results of the WASM kernels live in the kernels' heap as views (so chained kernels
// work in place): a live result must never be overwritten by later ops, disposing
// returns its block for reuse, so a repeated workload stops growing the memory, and
// the allocator hands out 64-byte-aligned, non-overlapping blocks.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@gpt/tensor';
import { WasmKernels } from '../../src/wasm/wasm-kernels.js';

describe('WASM heap', () => {
  beforeAll(() => T.setCpuKernels('wasm'));
  afterAll(() => T.setCpuKernels('auto'));

  it('keeps live results intact while later results come and go', () => {
    const x = T.randn([300, 200], { seed: 1 });
    const kept = T.gelu(x);
    const before = Float32Array.from(kept.dataSync());
    for (let i = 0; i < 20; i++) T.tidy(() => void T.add(T.mul(x, i), T.matmul(T.matmul(x, x, { transB: true }), x)));
    expect(Float32Array.from(kept.dataSync())).toEqual(before);
    x.dispose();
    kept.dispose();
  });

  it('reuses released blocks: a repeated step stops growing WASM memory', () => {
    const w = T.randn([256, 512], { seed: 2 });
    const x = T.randn([128, 256], { seed: 3 });
    const step = () => T.tidy(() => void T.sum(T.gelu(T.add(T.matmul(x, w), 1))));
    const tensorsBefore = T.memory().tensors;
    step();
    step();
    const grown = T.cpuKernelsStatus().wasmMemoryBytes;
    for (let i = 0; i < 30; i++) step();
    expect(T.cpuKernelsStatus().wasmMemoryBytes).toBe(grown);
    expect(T.memory().tensors).toBe(tensorsBefore);
    w.dispose();
    x.dispose();
  });

  it('hands out aligned, disjoint blocks and reuses a released one', () => {
    const kernels = WasmKernels.create('shared');
    const sizes = [1, 64, 65, 1000, 4096, 70_000, 3];
    const blocks = sizes.map((bytes) => ({ at: kernels.alloc(bytes)!, bytes }));
    for (const b of blocks) expect(b.at % 64).toBe(0);
    const sorted = [...blocks].sort((p, q) => p.at - q.at);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]!.at).toBeGreaterThanOrEqual(sorted[i - 1]!.at + sorted[i - 1]!.bytes);
    kernels.release(blocks[3]!.at, 1000);
    expect(kernels.alloc(990)).toBe(blocks[3]!.at);
    const view = kernels.viewF32(10)!;
    expect(kernels.addressOf(view)).toBe(view.byteOffset);
    expect(kernels.addressOf(new Float32Array(10))).toBeNull();
    expect(kernels.releaseView(view)).toBe(true);
    expect(kernels.releaseView(view)).toBe(false);
  });
});
