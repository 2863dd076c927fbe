// The device a run trains on: "cpu" (always there) or "webgpu", which is started on first
// use through @gpt/tensor/webgpu-node (Dawn), imported only then so CPU runs never load it.
import { getDefaultDevice, memory } from '@gpt/tensor';

/** Makes `device` usable (starting WebGPU when asked for it) and returns its name. */
export async function ensureDevice(device: string = getDefaultDevice(), where = 'trainGpt'): Promise<string> {
  if (device in memory().devices) return device;
  if (device !== 'webgpu') throw new Error(`${where}: unknown device "${device}" (known: ${[...Object.keys(memory().devices), 'webgpu'].join(', ')})`);
  const { initWebGPU, probeWebGPU } = await import('@gpt/tensor/webgpu-node');
  const probe = await probeWebGPU();
  if (!probe.available) throw new Error(`${where}: device "webgpu" is not available here: ${probe.reason}`);
  await initWebGPU();
  return device;
}
