// The job block: how the JavaScript side (src/wasm/) describes one kernel call to
// every thread that runs it. A job is split into independent tasks; each thread
// claims task indices with an atomic counter until none are left, so a job runs the
// same whether one thread or several take part. All fields are i32 words.

/** Word indices of the job header; exported so JS writes exactly what this side reads. */
export const JOB_KIND: i32 = 0;
export const JOB_TASKS: i32 = 1;
/** Next unclaimed task index (atomic). */
export const JOB_NEXT: i32 = 2;
/** Tasks finished (atomic); the caller waits for it to reach JOB_TASKS. */
export const JOB_DONE: i32 = 3;
/** Next free scratch slot (atomic): each thread that joins takes one. */
export const JOB_SLOT: i32 = 4;
/** Byte address of scratch slot 0, and the bytes of each slot. */
export const JOB_SCRATCH: i32 = 5;
export const JOB_SCRATCH_BYTES: i32 = 6;
/** Scratch slots the job has; a thread that would take a further one does not join. */
export const JOB_MAX_SLOTS: i32 = 7;
/** Kind-specific arguments start at this word. */
export const JOB_ARGS: i32 = 8;

export const KIND_GEMM: i32 = 1;
export const KIND_ELEMENTWISE: i32 = 2;
export const KIND_COPY: i32 = 3;
export const KIND_ROWS: i32 = 4;
export const KIND_IM2COL: i32 = 5;
export const KIND_ADAM: i32 = 6;

@inline export function jobWord(job: usize, index: i32): i32 {
  return load<i32>(job + (<usize>index << 2));
}

/** Claims the next task index, or returns -1 when all are taken. */
@inline export function claimTask(job: usize): i32 {
  const t = atomic.add<i32>(job + (<usize>JOB_NEXT << 2), 1);
  return t < jobWord(job, JOB_TASKS) ? t : -1;
}

@inline export function finishTask(job: usize): void {
  atomic.add<i32>(job + (<usize>JOB_DONE << 2), 1);
}

/** A slot (index of the joining thread) for this job, or -1 when all JOB_MAX_SLOTS are taken. */
@inline export function claimSlot(job: usize): i32 {
  const slot = atomic.add<i32>(job + (<usize>JOB_SLOT << 2), 1);
  return slot < jobWord(job, JOB_MAX_SLOTS) ? slot : -1;
}

/** The scratch memory of slot `slot`. */
@inline export function scratchOf(job: usize, slot: i32): usize {
  return <usize>jobWord(job, JOB_SCRATCH) + <usize>slot * <usize>jobWord(job, JOB_SCRATCH_BYTES);
}
