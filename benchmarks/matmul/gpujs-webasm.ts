// gpu.js in its "webasm" mode (WebAssembly with f32x4 SIMD), on one thread and, under
// gpu.js's async contract, split over its worker pool.
import { gpuJsColumn } from '../helpers/gpujs-columns.js';

const supported = async (gpujs: { GPU: { isWebAssemblySupported: boolean } }) =>
  gpujs.GPU.isWebAssemblySupported ? null : 'gpu.js reports WebAssembly as unsupported here';

export default [
  gpuJsColumn({ name: 'gpujs-webasm-1t', mode: 'webasm', prepare: supported }),
  gpuJsColumn({ name: 'gpujs-webasm-mt', mode: 'webasm', asyncMode: true, prepare: supported }),
];
