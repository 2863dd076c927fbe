// The adapter line of `pnpm bench gpu`: what our backend runs on (its describe(): adapter and
// kernel profile), the adapter's limits that decide the kernels' shapes, and its features
// (subgroups, shader-f16, ...), read from the same Dawn entry point the backend was made from.

import { dawnEntryPoint, type WebGPUBackend } from '@gpt/tensor/webgpu-node';

export interface AdapterReport {
  /** backend.describe(): "<adapter> (<profile> kernels)". */
  backend: string;
  limits: Record<string, number>;
  features: string[];
}

/** Adapter limits worth knowing when reading the numbers (workgroup sizes, shared memory, buffer sizes). */
const LIMITS = [
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupsPerDimension',
] as const;

interface AdapterLike {
  features: Iterable<string>;
  limits: Record<string, number>;
  info?: { subgroupMinSize?: number; subgroupMaxSize?: number };
}

export async function adapterReport(backend: WebGPUBackend): Promise<AdapterReport> {
  const report: AdapterReport = { backend: backend.describe(), limits: { ...backend.limits }, features: [] };
  const gpu = await dawnEntryPoint();
  if ('reason' in gpu) return report;
  const adapter = (await gpu.requestAdapter()) as AdapterLike | null;
  if (!adapter) return report;
  for (const name of LIMITS) {
    const value = adapter.limits[name];
    if (typeof value === 'number') report.limits[name] = value;
  }
  const { subgroupMinSize, subgroupMaxSize } = adapter.info ?? {};
  if (subgroupMinSize) report.limits.subgroupMinSize = subgroupMinSize;
  if (subgroupMaxSize) report.limits.subgroupMaxSize = subgroupMaxSize;
  report.features = [...adapter.features].sort();
  return report;
}

/** "4 GiB", "32 KiB", "1024": a limit in the unit that reads best. */
function formatLimit(name: string, value: number): string {
  if (!/Size$/.test(name) || name.startsWith('subgroup') || name.startsWith('maxComputeWorkgroupSize') || value < 1024) return String(value);
  for (const [unit, bytes] of [['GiB', 2 ** 30], ['MiB', 2 ** 20], ['KiB', 2 ** 10]] as const) {
    if (value >= bytes) return `${+(value / bytes).toFixed(2)} ${unit}`;
  }
  return String(value);
}

/** The report as text lines for the table output. */
export function adapterLines(report: AdapterReport): string[] {
  const limits = Object.entries(report.limits).map(([name, value]) => `${name} ${formatLimit(name, value)}`);
  return [`adapter: ${report.backend}`, `limits: ${limits.join(', ')}`, `features: ${report.features.join(', ') || '(none reported)'}`];
}
