// Every conformance case, in one list the forward, gradient and coverage tests share.

import type { OpCase } from '../case.js';
import { ATTENTION_CASES } from './attention-cases.js';
import { CREATION_CASES } from './creation-cases.js';
import { ELEMENTWISE_CASES } from './elementwise-cases.js';
import { MATMUL_CASES } from './matmul-cases.js';
import { NN_CASES } from './nn-cases.js';
import { REDUCTION_CASES } from './reduction-cases.js';
import { SHAPE_CASES } from './shape-cases.js';

export const ALL_CASES: readonly OpCase[] = [...ELEMENTWISE_CASES, ...REDUCTION_CASES, ...MATMUL_CASES, ...SHAPE_CASES, ...NN_CASES, ...ATTENTION_CASES, ...CREATION_CASES];
