// Readable printing of tensors, in the spirit of PyTorch's repr.

import type { DType, TypedArray } from './dtype.js';
import { shapeToString, sizeOf, type Shape } from './shape.js';

const EDGE_ITEMS = 3;
const SUMMARIZE_ABOVE = 1000;

function formatValue(v: number, dtype: DType): string {
  if (dtype === 'bool') return v ? 'true' : 'false';
  if (dtype === 'int32') return String(v);
  if (Number.isNaN(v) || !Number.isFinite(v)) return String(v);
  const abs = Math.abs(v);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e6)) return v.toExponential(4);
  return v.toFixed(4);
}

export function formatTensor(values: TypedArray | null, shape: Shape, dtype: DType, device: string, requiresGrad: boolean): string {
  const suffix = `shape=${shapeToString(shape)}, dtype=${dtype}, device=${device}${requiresGrad ? ', requiresGrad' : ''}`;
  if (!values) return `Tensor(<on ${device}: await data() to read>, ${suffix})`;
  const summarize = sizeOf(shape) > SUMMARIZE_ABOVE;
  const strings = Array.from(values, (v) => formatValue(v, dtype));
  const width = Math.max(1, ...strings.map((s) => s.length));
  const render = (axis: number, offset: number, indent: string): string => {
    if (axis === shape.length) return strings[offset]!.padStart(width);
    const n = shape[axis]!;
    const stride = sizeOf(shape.slice(axis + 1));
    const indices =
      summarize && n > 2 * EDGE_ITEMS
        ? [...Array(EDGE_ITEMS).keys(), -1, ...Array.from({ length: EDGE_ITEMS }, (_, i) => n - EDGE_ITEMS + i)]
        : [...Array(n).keys()];
    const parts = indices.map((i) => (i < 0 ? '...' : render(axis + 1, offset + i * stride, indent + ' ')));
    const sep = axis === shape.length - 1 ? ', ' : ',\n' + indent + ' ';
    return `[${parts.join(sep)}]`;
  };
  return `Tensor(${render(0, 0, '       ')}, ${suffix})`;
}
