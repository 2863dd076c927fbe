// Elementwise kernels generated from the op table's expressions (ops.ts), the same
// expressions the CPU backend compiles to closures, printed as WGSL by emitWgsl.
// Each input is read in one of three modes, chosen per call and part of the key:
//   d  dense: same element count as the output, read at the output index
//   s  scalar: one element, read at 0
//   b  broadcast: read through strides (offsets unravelled once per run of elements)
// Without broadcast operands invocations walk the elements grid-stride; with them,
// each takes a contiguous run (see stridedRunWgsl).

import type { DType } from '../../dtype.js';
import { emitWgsl, WGSL_EXPR_PRELUDE, type Expr } from '../../expr.js';
import { BINARY, FUSED, UNARY, WHERE_EXPR, type BinaryOp, type FusedOp, type TensorMeta, type UnaryOp } from '../../ops.js';
import { broadcastStrides, sizeOf } from '../../shape.js';
import { kernelSpec, Params, type GpuInfo, type GpuTensorBuffer, type KernelContext, type KernelSpec } from './kernel.js';
import { assertRank, coalesce } from './strided-layout.js';
import {
  ELEMENTS_PER_INVOCATION,
  gridStrideWgsl,
  MAIN_ARGS,
  MAX_RANK,
  PARAMS_WGSL,
  storage,
  stridedOffsetsWgsl,
  stridedRunWgsl,
  wgslType,
  WORKGROUP_SIZE,
} from './wgsl.js';

export type ReadMode = 'd' | 's' | 'b';

// Parameter block layout.
const N = 0;
const RANK = 1;
const SHAPE = 8;
const STRIDES = 16; // operand k at STRIDES + k * MAX_RANK

/** Which expression an elementwise op evaluates. */
export type ElementwiseOp = UnaryOp | BinaryOp | FusedOp | 'where';

function exprOf(op: ElementwiseOp): Expr {
  if (op === 'where') return WHERE_EXPR;
  if (op in FUSED) return FUSED[op as FusedOp].expr;
  return op in UNARY ? UNARY[op as UnaryOp].expr : BINARY[op as BinaryOp].expr;
}

/**
 * The kernel for `op` reading inputs of `inputTypes` in `modes`, computing in the
 * WGSL type of `compute` and storing `output`.
 */
export function elementwiseSpec(op: ElementwiseOp, inputTypes: readonly DType[], compute: DType, output: DType, modes: readonly ReadMode[]): KernelSpec {
  const key = `elementwise:${op}:${inputTypes.join(',')}:${compute}:${output}:${modes.join('')}`;
  return kernelSpec(key, () => {
    const T = wgslType(compute);
    const broadcast = modes.flatMap((m, k) => (m === 'b' ? [k] : []));
    const reads = modes.map((m, k) => {
      const at = m === 'd' ? 'i' : m === 's' ? '0u' : `offsets[${broadcast.indexOf(k)}]`;
      return `let x${k} = ${T}(in${k}[${at}]);`;
    });
    const body = `${reads.join('\n    ')}
    out[i] = ${wgslType(output)}(${emitWgsl(exprOf(op), modes.map((_, k) => `x${k}`), T)});`;
    const strides = broadcast.map((k) => STRIDES + k * MAX_RANK);
    const code = `${PARAMS_WGSL}
${inputTypes.map((t, k) => storage(k + 1, `in${k}`, wgslType(t), 'read')).join('\n')}
${storage(inputTypes.length + 1, 'out', wgslType(output), 'read_write')}
${WGSL_EXPR_PRELUDE}
${broadcast.length > 0 ? stridedOffsetsWgsl(RANK, SHAPE, strides) : ''}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(${MAIN_ARGS}) {
  ${broadcast.length > 0 ? stridedRunWgsl(N, RANK, SHAPE, strides, body) : gridStrideWgsl(`pu(${N}u)`, body)}
}
`;
    return { code, storage: [...inputTypes.map(() => 'read' as const), 'read_write'] };
  });
}

function readMode(input: GpuInfo, outSize: number): ReadMode {
  const size = sizeOf(input.shape);
  if (size === outSize) return 'd';
  return size === 1 ? 's' : 'b';
}

/** Runs an elementwise op over broadcast inputs. `compute` is the dtype the expression works in. */
export function runElementwise(ctx: KernelContext, op: ElementwiseOp, inputs: readonly GpuInfo[], compute: DType, out: TensorMeta): GpuTensorBuffer {
  const result = ctx.allocate(op, out);
  const n = sizeOf(out.shape);
  if (n === 0) return result;
  const modes = inputs.map((t) => readMode(t, n));
  const params = new Params().u32(N, n);
  const broadcast = inputs.flatMap((t, k) => (modes[k] === 'b' ? [k] : []));
  if (broadcast.length > 0) {
    const layout = coalesce(
      out.shape,
      broadcast.map((k) => broadcastStrides(inputs[k]!.shape, out.shape)),
    );
    assertRank(op, layout, out.shape);
    params.u32(RANK, layout.shape.length).u32s(SHAPE, layout.shape);
    broadcast.forEach((k, j) => params.u32s(STRIDES + k * MAX_RANK, layout.strides[j]!));
  }
  const spec = elementwiseSpec(op, inputs.map((t) => t.dtype), compute, out.dtype, modes);
  ctx.dispatch(op, spec, params, [...inputs.map((t) => t.buffer), result], ctx.grid(op, Math.ceil(n / ELEMENTS_PER_INVOCATION)));
  return result;
}

/** Every input dtype an elementwise op accepts, for the compile-everything test. */
export function elementwiseVariants(): KernelSpec[] {
  const specs: KernelSpec[] = [];
  const modeSets = (arity: number): ReadMode[][] =>
    arity === 1 ? [['d']] : arity === 2 ? [['d', 'd'], ['d', 's'], ['s', 'd'], ['b', 'd'], ['d', 'b'], ['b', 'b']] : [['d', 'd', 'd'], ['b', 'b', 'b'], ['d', 's', 's']];
  for (const [name, def] of Object.entries(UNARY)) {
    for (const dt of def.dtypes) specs.push(elementwiseSpec(name as UnaryOp, [dt], dt, dt, ['d']));
  }
  for (const [name, def] of Object.entries(BINARY)) {
    for (const dt of def.dtypes) {
      for (const modes of modeSets(2)) specs.push(elementwiseSpec(name as BinaryOp, [dt, dt], dt, def.out ?? dt, modes));
    }
  }
  for (const dt of ['float32', 'int32', 'bool'] as const) {
    for (const modes of modeSets(3)) specs.push(elementwiseSpec('where', ['bool', dt, dt], dt, dt, modes));
  }
  // The fused ops as they run: dense tensors, with per-call values as 0-d scalars; and all broadcast.
  for (const [name, { arity }] of Object.entries(FUSED)) {
    const types = Array<DType>(arity).fill('float32');
    const asCalled: ReadMode[] =
      name === 'adamStep' ? ['d', 'd', 'd', 's', 's', 's'] : name === 'geluBackward' || name === 'seluBackward' ? ['d', 'd'] : name === 'mulAdd' ? ['d', 'b', 'b'] : ['d', 'd', 's'];
    for (const modes of [asCalled, Array<ReadMode>(arity).fill('b')]) specs.push(elementwiseSpec(name as FusedOp, types, 'float32', 'float32', modes));
  }
  return specs;
}
