// The PyTorch side of `pnpm bench gpu`: one long-lived benchmarks/gpu_torch.py process that
// times each row's twin right after ours, so torch is imported and CUDA started once per run.
// Finding it tries each Python of pythonCandidates() until one has a torch that can run on the
// asked device; every wait has a time limit, and a worker that stops answering is killed.

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { benchmarkScript, pythonCandidates } from '../helpers/pytorch.js';

export type TorchDevice = 'cuda' | 'cpu';

/** What gpu_torch.py answers for one row (fwd_ms for steps only). */
export interface TorchResult {
  ms: number;
  inner: number;
  reps: number;
  fwd_ms?: number;
}

interface Answer extends Partial<TorchResult> {
  id?: number;
  error?: string;
  ready?: boolean;
  reason?: string;
  torch?: string;
  device?: string;
}

/** The last line a process wrote to stderr (a Python traceback's exception), for error messages. */
function stderrTail(child: ChildProcessWithoutNullStreams): () => string {
  let text = '';
  child.stderr.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-2000);
  });
  return () => text.trim().split('\n').at(-1)!.trim();
}

export class TorchWorker {
  private nextId = 0;
  private readonly answers: Answer[] = [];
  private waiting: (() => void) | null = null;
  private exited: string | null = null;
  private readonly stderr: () => string;
  /** "PyTorch <version> on <device>", once started. */
  label = '';

  private constructor(
    private readonly child: ChildProcessWithoutNullStreams,
    readonly python: string,
  ) {
    this.stderr = stderrTail(child);
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        this.answers.push(JSON.parse(line) as Answer);
      } catch {
        return; // not a protocol line (a library's print)
      }
      this.waiting?.();
    });
    const exit = (why: string) => {
      this.exited ??= why;
      this.waiting?.();
    };
    child.on('error', (error) => exit(error.message));
    child.stdin.on('error', (error) => exit(`stopped reading its input (${error.message})`));
    child.on('exit', (code, signal) => exit(`exited (${signal ?? `code ${code}`})${this.stderr() ? `: ${this.stderr()}` : ''}`));
  }

  /**
   * Starts gpu_torch.py with the first Python that has a torch able to run on `device`; returns
   * the worker, or why none could start (every candidate's reason). Waits up to `timeoutMs` per
   * candidate (importing torch and starting CUDA).
   */
  static async start(device: TorchDevice, timeoutMs: number): Promise<TorchWorker | { reason: string }> {
    const reasons: string[] = [];
    for (const python of pythonCandidates()) {
      const worker = new TorchWorker(spawn(python, [benchmarkScript('gpu_torch.py'), '--device', device], { stdio: ['pipe', 'pipe', 'pipe'] }), python);
      const hello = await worker.next(timeoutMs);
      if (!('failure' in hello) && hello.ready) {
        worker.label = `PyTorch ${hello.torch} on ${hello.device}`;
        return worker;
      }
      worker.close();
      reasons.push(`${python}: ${'failure' in hello ? hello.failure : (hello.reason ?? 'gpu_torch.py did not start')}`);
    }
    return { reason: reasons.join('; ') };
  }

  /** The next line of the protocol, or why none came within `timeoutMs` (the worker is then stopped). */
  private async next(timeoutMs: number): Promise<Answer | { failure: string }> {
    const deadline = performance.now() + timeoutMs;
    while (this.answers.length === 0) {
      if (this.exited) return { failure: `gpu_torch.py ${this.exited}` };
      const left = deadline - performance.now();
      if (left <= 0) {
        this.close();
        return { failure: `gpu_torch.py gave no answer within ${(timeoutMs / 1000).toFixed(0)} s (stopped)` };
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiting = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.waiting = null;
    }
    return this.answers.shift()!;
  }

  /** Whether the worker can still take requests. */
  get alive(): boolean {
    return this.exited === null;
  }

  /** Times one row's twin; throws with the worker's error, or when it gives no answer within `budgetSeconds` (plus slack). */
  async run(spec: object, reps: number, budgetSeconds: number): Promise<TorchResult> {
    if (this.exited) throw new Error(`gpu_torch.py ${this.exited}`);
    const id = ++this.nextId;
    this.child.stdin.write(`${JSON.stringify({ id, spec, reps, budget_s: budgetSeconds })}\n`);
    // The worker stops timing at the budget, but a batch in flight and the set-up still run: some slack.
    const answer = await this.next(budgetSeconds * 1000 + 30_000);
    if ('failure' in answer) throw new Error(answer.failure);
    if (answer.id !== id) throw new Error(`gpu_torch.py answered request ${answer.id} to request ${id}`);
    if (answer.error) throw new Error(answer.error);
    return answer as TorchResult;
  }

  /** Ends the worker (its stdin closes; killed if still running). */
  close(): void {
    this.exited ??= 'closed';
    this.child.stdin.end();
    if (this.child.exitCode === null) this.child.kill();
  }
}
