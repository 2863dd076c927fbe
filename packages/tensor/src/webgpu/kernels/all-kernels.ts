// Every WGSL program the backend can build (each kernel's variants), for the test
// that validates every one of them with Dawn's null backend.

import { adamUpdateSpec } from './adam-update.js';
import { attentionVariants } from './attention.js';
import { avgPool2dVariants } from './avg-pool2d.js';
import { castVariants } from './cast.js';
import { conv2dVariants } from './conv2d.js';
import { elementwiseVariants } from './elementwise.js';
import { fillSpec } from './fill.js';
import { gatherVariants } from './gather.js';
import type { KernelSpec } from './kernel.js';
import { layerNormVariants } from './layer-norm.js';
import { matmulVariants } from './matmul.js';
import { randomVariants } from './random.js';
import { reduceVariants } from './reduce.js';
import { softmaxVariants } from './softmax.js';
import { copyVariants } from './strided-copy.js';

export function allKernelSpecs(): KernelSpec[] {
  return [
    ...elementwiseVariants(),
    ...castVariants(),
    fillSpec(),
    ...copyVariants(),
    ...gatherVariants(),
    ...reduceVariants(),
    ...softmaxVariants(),
    ...layerNormVariants(),
    ...attentionVariants(),
    adamUpdateSpec(),
    ...matmulVariants(),
    ...conv2dVariants(),
    ...avgPool2dVariants(),
    ...randomVariants(),
  ];
}
