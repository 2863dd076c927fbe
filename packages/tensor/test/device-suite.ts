// Runs a block of tests once per entry of TEST_DEVICES. An unavailable device's
// tests fail with its reason when the device is required (the CPU ones always, "webgpu"
// under GPT_REQUIRE_WEBGPU=1), and are skipped with the reason otherwise.

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
      const required = device.required();
      if (required) throw new Error(`the ${device.name} device is required but unavailable: ${reason}; ${required.how}`);
      context.skip(reason);
    });
    body(device);
  });
}
