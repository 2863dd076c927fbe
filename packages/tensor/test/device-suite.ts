// Runs a block of tests once per entry of TEST_DEVICES. An unavailable device's
// tests are skipped with its reason, except that GPT_REQUIRE_WEBGPU=1 turns an
// unavailable "webgpu" entry into failures (for machines that must have a GPU).

import { afterAll, beforeAll, beforeEach, describe } from 'vitest';
import { TEST_DEVICES, type TestDevice } from './devices.js';

async function reasonUnavailable(device: TestDevice): Promise<string | null> {
  try {
    return await device.unavailableReason();
  } catch (error) {
    return `unavailableReason() threw: ${(error as Error).message}`;
  }
}

export function describeEachDevice(body: (device: TestDevice) => void): void {
  describe.each(TEST_DEVICES.map((d) => [d.name, d] as const))('%s', (_name, device) => {
    let reason: string | null = null;
    beforeAll(async () => {
      reason = await reasonUnavailable(device);
      if (reason === null) await device.setup();
    });
    afterAll(async () => {
      if (reason === null) await device.teardown();
    });
    beforeEach((context) => {
      if (reason === null) return;
      if (process.env.GPT_REQUIRE_WEBGPU === '1' && device.name === 'webgpu') {
        throw new Error(`GPT_REQUIRE_WEBGPU=1 but the webgpu device is unavailable: ${reason}`);
      }
      context.skip(reason);
    });
    body(device);
  });
}
