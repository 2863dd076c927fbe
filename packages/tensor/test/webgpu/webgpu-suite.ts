// Runs a block of tests against one WebGPU backend (Dawn through
// @gpt/tensor/webgpu-node), created once per test file. Without an adapter the tests
// skip with the reason; GPT_REQUIRE_WEBGPU=1 (CI) makes that a failure instead.

import { getBackend, setDefaultDevice } from '@gpt/tensor';
import { initWebGPU, probeWebGPU, type WebGPUBackend } from '@gpt/tensor/webgpu-node';
import { afterAll, beforeAll, beforeEach, describe } from 'vitest';

let shared: Promise<WebGPUBackend> | null = null;

/** The test file's backend, registered as "webgpu". */
export function sharedWebGPU(): Promise<WebGPUBackend> {
  shared ??= (async () => {
    try {
      return getBackend('webgpu') as WebGPUBackend;
    } catch {
      return initWebGPU();
    }
  })();
  return shared;
}

export function describeWebGPU(title: string, body: (gpu: () => WebGPUBackend) => void): void {
  describe(title, () => {
    let reason: string | null = null;
    let backend: WebGPUBackend | null = null;
    beforeAll(async () => {
      const probe = await probeWebGPU();
      reason = probe.available ? null : probe.reason;
      if (reason === null) backend = await sharedWebGPU();
    });
    afterAll(() => setDefaultDevice('cpu'));
    beforeEach((context) => {
      if (reason === null) return;
      if (process.env.GPT_REQUIRE_WEBGPU === '1') throw new Error(`GPT_REQUIRE_WEBGPU=1 but WebGPU is unavailable: ${reason}`);
      context.skip(reason);
    });
    body(() => {
      if (!backend) throw new Error('WebGPU backend not initialized');
      return backend;
    });
  });
}
