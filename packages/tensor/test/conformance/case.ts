// One conformance case: a call into the library, the float64 reference it must
// agree with, the inputs to draw, and whether its gradient is checked.

import type { Tensor } from '@gpt/tensor';
import type { NdArray } from '../reference/nd-array.js';
import type { ForwardClass } from '../tolerance.js';
import type { InputSpec } from './inputs.js';

export interface OpCase {
  /** The primitive op (a key of OPS) or public function under test. */
  readonly subject: string;
  /** What this case varies: shapes, axes, options. */
  readonly name: string;
  readonly inputs: readonly InputSpec[];
  /** The library call; tensors arrive in the order of `inputs`. */
  readonly run: (...xs: Tensor[]) => Tensor | Tensor[];
  /** The same computation on the reference arrays. */
  readonly reference: (...xs: NdArray[]) => NdArray | NdArray[];
  readonly tolerance: ForwardClass;
  /** Also check backward() against finite differences of `reference`. */
  readonly gradient: boolean;
}

export type CaseInit = Omit<OpCase, 'gradient' | 'tolerance'> & { gradient?: boolean; tolerance?: ForwardClass };

export function opCase(init: CaseInit): OpCase {
  return { tolerance: 'rounding', gradient: false, ...init };
}

export const caseTitle = (c: OpCase): string => `${c.subject}: ${c.name}`;

/** Formats a shape list for case names, e.g. "[2, 3] x [3]". */
export const shapes = (...list: (readonly number[])[]): string => list.map((s) => `[${s.join(', ')}]`).join(' x ');
