// gpu.js in its "webgpu" mode, fed the navigator.gpu of the webgpu package (Dawn),
// the same adapter as the webgpu column. Each call includes gpu.js's readback of C.
import { dawnEntryPoint, probeWebGPU } from '@gpt/tensor/webgpu-node';
import { gpuJsColumn } from '../helpers/gpujs-columns.js';

async function installNavigatorGpu(): Promise<string | null> {
  const probe = await probeWebGPU();
  if (!probe.available) return probe.reason;
  const gpu = await dawnEntryPoint();
  if ('reason' in gpu) return gpu.reason;
  // Node 20 has no navigator; gpu.js looks for navigator.gpu.
  const g = globalThis as { navigator?: { gpu?: unknown } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  if (!g.navigator!.gpu) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
  return null;
}

export default gpuJsColumn({ name: 'gpujs-webgpu', mode: 'webgpu', prepare: installNavigatorGpu });
