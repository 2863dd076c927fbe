// The devices every conformance test runs on. Each entry switches the library to
// one backend configuration in setup() and back in teardown(). Backends add an
// entry here (the CPU with WASM kernels, WebGPU where an adapter exists). An
// unavailable entry fails its tests with the reason when it is `required`, and is
// reported as skipped with the reason otherwise.

import { cpuKernelsStatus, cpuThreadsReady, setCpuKernels, setDefaultDevice } from '@gpt/tensor';
import { ensureWebGPUDevice, GPU_KERNELS_DEVICE } from './need-webgpu.js';

export interface TestDevice {
  /** Label shown in test names, e.g. "cpu", "cpu-wasm", "webgpu". */
  readonly name: string;
  /** The device string tensors are created on while this entry is active. */
  readonly device: string;
  /** Resolves to null when usable, else to the reason it is not (the tests then skip, or fail when required). */
  unavailableReason(): Promise<string | null>;
  /** Whether being unavailable is a failure rather than a skip; `how` says how to make it available. */
  required(): { readonly how: string } | null;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  /** Tolerance multiplier for forward values (1 = the suite's default float32 tolerances). */
  readonly toleranceScale?: number;
}

export const cpuTs: TestDevice = {
  name: 'cpu',
  device: 'cpu',
  unavailableReason: async () => null,
  required: () => ({ how: 'the TypeScript kernels need nothing' }),
  // Plain TypeScript kernels only (the default 'auto' would route large products to WASM).
  setup: async () => {
    setDefaultDevice('cpu');
    setCpuKernels('ts');
  },
  teardown: async () => setCpuKernels('auto'),
};

/**
 * The CPU backend with its WASM SIMD kernels forced on for every size, split over the
 * worker pool whenever a call can be split (one thread where threads are unavailable).
 */
export const cpuWasm: TestDevice = {
  name: 'cpu-wasm',
  device: 'cpu',
  unavailableReason: async () => cpuKernelsStatus().wasmReason,
  // Never a silent skip: the kernels ship in every build, and the vitest globalSetup
  // (test/setup-wasm.ts at the repository root) builds them for source runs.
  required: () => ({ how: 'build them with `node packages/tensor/scripts/build-wasm.mjs` (vitest runs it when build/ is stale)' }),
  setup: async () => {
    setDefaultDevice('cpu');
    setCpuKernels(cpuKernelsStatus().threadsReason === null ? 'wasm-threads' : 'wasm');
    await cpuThreadsReady();
  },
  teardown: async () => setCpuKernels('auto'),
};

/**
 * The WebGPU backend through Dawn (@gpt/tensor/webgpu-node), one device per test
 * worker. Without a GPU it needs a Vulkan driver such as Mesa's lavapipe (.ci/run
 * installs it); GPT_REQUIRE_WEBGPU=1 turns "no adapter" into failures.
 */
export const webgpu: TestDevice = {
  name: 'webgpu',
  device: 'webgpu',
  required: () => (process.env.GPT_REQUIRE_WEBGPU === '1' ? { how: 'GPT_REQUIRE_WEBGPU=1 is set: install a Vulkan driver (.ci/run) or unset it' } : null),
  unavailableReason: async () => {
    const { probeWebGPU } = await import('@gpt/tensor/webgpu-node');
    const probe = await probeWebGPU();
    return probe.available ? null : probe.reason;
  },
  setup: async () => {
    setDefaultDevice(await ensureWebGPUDevice());
  },
  teardown: async () => setDefaultDevice('cpu'),
};

/**
 * The same adapter with the kernels chosen for real GPUs forced on (tiled matmuls, a
 * workgroup per row, fused attention), so CI's lavapipe runs every variant a GPU would.
 */
export const webgpuGpuKernels: TestDevice = {
  name: GPU_KERNELS_DEVICE,
  device: GPU_KERNELS_DEVICE,
  required: webgpu.required,
  unavailableReason: webgpu.unavailableReason,
  setup: async () => {
    setDefaultDevice(await ensureWebGPUDevice(true));
  },
  teardown: async () => setDefaultDevice('cpu'),
};

export const TEST_DEVICES: TestDevice[] = [cpuTs, cpuWasm, webgpu, webgpuGpuKernels];
