// @gpt/tensor/webgpu: the WebGPU backend for browsers (navigator.gpu) and for any
// runtime that provides a WebGPU entry point. In Node, use @gpt/tensor/webgpu-node.
//
//   const gpu = await initWebGPU({ setDefault: true }); // tensors now live on "webgpu"
//   const y = matmul(a, b);
//   console.log(await y.data());                         // readback is async

export { initWebGPU, probeWebGPU, adapterLabel, isSoftwareAdapter, type WebGPUInitOptions, type WebGPUProbe, type AdapterSummary, type GpuEntryPoint } from './webgpu/webgpu-init.js';
export { WebGPUBackend, type WebGPUBackendOptions, type WebGPUStats, type GpuTensorBuffer, type KernelProfile } from './webgpu/webgpu-backend.js';
