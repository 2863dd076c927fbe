// The program each pool worker runs. It is a fixed source string (not generated per
// call, never built from user input) so the same text starts a Node worker
// (`eval: true`) and a browser Web Worker (from a Blob URL) without a separate file
// that bundlers would have to find. The worker instantiates the kernels over the
// shared memory, then waits for jobs: each time WAKE changes it joins the open job,
// if any, and runs tasks until none are left (see thread-pool.ts for the protocol).

/** Word indices of the control block shared by the main thread and the workers. */
export const CONTROL = {
  /** Incremented by the main thread for every job it opens. */
  WAKE: 0,
  /** Byte address of the open job's block, 0 while none is open. */
  OPEN: 1,
  /** Workers currently inside a job. */
  ACTIVE: 2,
  /** Workers that finished starting. */
  READY: 3,
  /** Set to 1 by a worker whose kernel call threw. */
  FAILED: 4,
} as const;
export const CONTROL_WORDS = 8;

/** Checks of WAKE a worker makes before it sleeps (~20-50 us). */
const WORKER_SPIN = 20_000;

export function workerSource(jobDoneWord: number): string {
  const { WAKE, OPEN, ACTIVE, READY, FAILED } = CONTROL;
  return `'use strict';
function serve(init) {
  const memory = init.memory;
  const run = new WebAssembly.Instance(init.module, { env: { memory } }).exports.run;
  const control = new Int32Array(memory.buffer, init.control, ${CONTROL_WORDS});
  Atomics.add(control, ${READY}, 1);
  Atomics.notify(control, ${READY});
  let seen = Atomics.load(control, ${WAKE});
  for (;;) {
    // Jobs often come back to back (one per op): look for the next one briefly before
    // sleeping, since waking a sleeping thread takes tens of microseconds.
    for (let spin = 0; spin < ${WORKER_SPIN} && Atomics.load(control, ${WAKE}) === seen; spin++);
    Atomics.wait(control, ${WAKE}, seen);
    seen = Atomics.load(control, ${WAKE});
    Atomics.add(control, ${ACTIVE}, 1);
    const job = Atomics.load(control, ${OPEN});
    if (job !== 0) {
      try {
        run(job);
      } catch (error) {
        Atomics.store(control, ${FAILED}, 1);
      }
      Atomics.notify(new Int32Array(memory.buffer, job, ${jobDoneWord + 1}), ${jobDoneWord});
    }
    Atomics.sub(control, ${ACTIVE}, 1);
    Atomics.notify(control, ${ACTIVE});
  }
}
if (typeof require === 'function') serve(require('node:worker_threads').workerData);
else self.onmessage = (event) => serve(event.data);
`;
}
