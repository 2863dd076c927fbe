// Shared test helpers: fixture loading and closeness checks.

import { readFileSync } from 'node:fs';
import { tensor, type Tensor } from '@gpt/tensor';
import { expect } from 'vitest';

export interface Entry {
  shape: number[];
  data: number[];
}

export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

export function fromEntry(e: Entry): Tensor {
  return tensor(new Float32Array(e.data), { shape: e.shape });
}

/** Max |a - b| / (atol + rtol |b|) must be <= 1, reported with the worst index. */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, atol = 1e-5, rtol = 1e-4, what = 'values'): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = 0;
  let at = -1;
  for (let i = 0; i < expected.length; i++) {
    const ratio = Math.abs(actual[i]! - expected[i]!) / (atol + rtol * Math.abs(expected[i]!));
    if (!(ratio <= worst)) {
      worst = ratio;
      at = i;
    }
  }
  if (!(worst <= 1)) {
    expect.fail(`${what}: index ${at}: got ${actual[at]}, expected ${expected[at]} (atol ${atol}, rtol ${rtol})`);
  }
}

export function values(t: Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

export { needWebGPU } from '../../tensor/test/need-webgpu.js';
