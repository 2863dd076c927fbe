// PyTorch (Debian's python3-torch: OpenBLAS / oneDNN) on one thread and on all
// cores, timed inside Python (benchmarks/matmul_torch.py) so process start-up and
// IPC are not counted.
import type { MatmulImpl } from '../matmul.js';
import { pytorchUnavailableReason, runPython } from '../helpers/pytorch.js';

function seconds(args: string[]): number {
  return (JSON.parse(runPython('matmul_torch.py', args).trim().split('\n').at(-1)!) as { seconds: number }).seconds;
}

function column(name: string, threads: number | 'all'): MatmulImpl {
  const common = ['--threads', String(threads)];
  return {
    name,
    setup: async () => pytorchUnavailableReason(),
    measureMatmul: async (m, n, k, reps) => seconds([...common, '--reps', String(reps), '--matmul', String(m), String(n), String(k)]),
    measureConv2d: async ({ n, c, h, w, o }, reps) => seconds([...common, '--reps', String(reps), '--conv2d', ...[n, c, h, w, o].map(String)]),
  };
}

export default [column('pytorch-1t', 1), column('pytorch-mt', 'all')];
