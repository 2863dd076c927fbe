// Entry of the WASM kernels of @gpt/tensor's CPU backend. The module imports its
// memory (shared between the main thread and the worker pool when threads are
// available) and holds no static data, so every thread can instantiate it over the
// same memory. JS writes a job block (job.ts) and each participating thread calls
// run(job); the exported constants let JS lay out job blocks without duplicating them.

import { JOB_KIND, claimSlot, scratchOf, claimTask, finishTask, jobWord, KIND_COPY, KIND_ELEMENTWISE, KIND_GEMM, KIND_IM2COL, KIND_ROWS, KIND_ADAM } from './job';
import { gemmTask } from './gemm';
import { elementwiseTask } from './elementwise';
import { stridedCopyTask } from './strided-copy';
import { rowsTask } from './rows';
import { im2colTask } from './im2col';
import { adamTask } from './adam';

export {
  JOB_KIND, JOB_TASKS, JOB_NEXT, JOB_DONE, JOB_SLOT, JOB_SCRATCH, JOB_SCRATCH_BYTES, JOB_MAX_SLOTS, JOB_ARGS, KIND_GEMM, KIND_ELEMENTWISE, KIND_COPY, KIND_ROWS, KIND_IM2COL, KIND_ADAM,
} from './job';
export { ADAM_COUNT, ADAM_TASK_SIZE, ADAM_ARRAYS, ADAM_SCALARS } from './adam';
export * from './im2col';
export * from './rows';
export { COPY_RANK, COPY_SRC, COPY_DST, COPY_ROWS_PER_TASK, COPY_SHAPE, COPY_SRC_STRIDES, COPY_DST_STRIDES } from './strided-copy';
export * from './elementwise';
export { MR as GEMM_MR, NR as GEMM_NR } from './microkernel';
export {
  GEMM_M, GEMM_N, GEMM_K, GEMM_A_RS, GEMM_A_CS, GEMM_B_RS, GEMM_B_CS, GEMM_LDC, GEMM_BATCH, GEMM_TABLE,
  GEMM_SUM_BATCH, GEMM_ACCUMULATE, GEMM_TILE_M, GEMM_TILE_N, GEMM_BIAS, gemmScratchBytes, gemmTasks,
} from './gemm';

/** Claims and runs tasks of the job at `job` until none are left. */
export function run(job: usize): void {
  const kind = jobWord(job, JOB_KIND);
  const slot = claimSlot(job);
  // More threads than slots (e.g. workers of a pool being replaced): the others do the work.
  if (slot < 0) return;
  const scratch = scratchOf(job, slot);
  for (let t = claimTask(job); t >= 0; t = claimTask(job)) {
    if (kind == KIND_GEMM) gemmTask(job, t, scratch);
    else if (kind == KIND_ELEMENTWISE) elementwiseTask(job, t, scratch);
    else if (kind == KIND_COPY) stridedCopyTask(job, t, scratch);
    else if (kind == KIND_ROWS) rowsTask(job, t, scratch);
    else if (kind == KIND_IM2COL) im2colTask(job, t);
    else if (kind == KIND_ADAM) adamTask(job, t);
    else unreachable();
    finishTask(job);
  }
}
