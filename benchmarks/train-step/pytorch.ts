// PyTorch (Debian's python3-torch through /usr/bin/python3) running the same model
// (benchmarks/train_step_torch.py) on one thread and on all cores.
import type { TrainStepImpl } from '../train-step.js';
import { pytorchUnavailableReason, runPython } from '../helpers/pytorch.js';

function column(name: string, threads: number | 'all'): TrainStepImpl {
  return {
    name,
    setup: async () => pytorchUnavailableReason(),
    async measure(config, reps) {
      const out = runPython('train_step_torch.py', ['--config', JSON.stringify(config), '--reps', String(reps), '--threads', String(threads)]);
      return (JSON.parse(out.trim().split('\n').at(-1)!) as { seconds: number }).seconds;
    },
  };
}

export default [column('pytorch-1t', 1), column('pytorch-mt', 'all')];
