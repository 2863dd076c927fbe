// Batched multi-run training equals training the runs one by one: the MNIST MLP's K runs
// trained as one computation (stacked weights, batched matmuls) give the same saved
// iterations, checkpoints and metrics as @gpt/nn's autograd + SGD run after run.
import { describe, expect, it } from 'vitest';
import { trainMlpRunsBatched, mlpLayout } from '../src/tasks/batched-mlp.js';
import { createMnistTask } from '../src/tasks/mnist.js';

describe('batched MLP runs', () => {
  it('equal the runs trained one by one (checkpoints, iterations, metrics)', async () => {
    // 1,024 training images -> 8 steps per epoch, 3 epochs: T = 24, 7 checkpoints per run.
    const task = await createMnistTask('avg_test_err', { trainSubset: 1024, recipe: { epochs: 3 } });
    const runs = [5, 0, 12];
    const options = { checkpointsPerRun: 7 };
    const batched = await trainMlpRunsBatched(task, runs, options);
    const single = await task.trainRunsOneByOne(runs, options);
    expect(batched).toHaveLength(3);
    for (let r = 0; r < runs.length; r++) {
      const a = batched[r]!;
      const b = single[r]!;
      expect(Array.from(a.iterations)).toEqual(Array.from(b.iterations));
      // The initializations are bit-identical; training drifts only by float rounding.
      expect(a.parameters.subarray(0, 7960)).toEqual(b.parameters.subarray(0, 7960));
      let worst = 0;
      for (let i = 0; i < a.parameters.length; i++) worst = Math.max(worst, Math.abs(a.parameters[i]! - b.parameters[i]!));
      expect(worst).toBeLessThan(1e-5); // measured ~7e-7 after 64 steps
      for (const name of ['avg_train_loss', 'avg_test_loss']) {
        for (let k = 0; k < 7; k++) expect(a.metrics[name]![k]).toBeCloseTo(b.metrics[name]![k]!, 4);
      }
      for (const name of ['avg_train_err', 'avg_test_err']) {
        // A borderline example may flip: at most one of 128 (train) or 1,996 (test).
        for (let k = 0; k < 7; k++) expect(Math.abs(a.metrics[name]![k]! - b.metrics[name]![k]!)).toBeLessThanOrEqual(100 / 128 + 1e-9);
      }
    }
    // The task's trainRuns batches by itself and returns runs in the order asked.
    const viaTask = await task.trainRuns([12, 5], options);
    expect(viaTask[0]!.parameters).toEqual(batched[2]!.parameters);
    expect(viaTask[1]!.parameters).toEqual(batched[0]!.parameters);
  });

  it('refuses a network that is not a one-hidden-layer MLP', () => {
    expect(() => mlpLayout([{ name: 'w', shape: [3, 4] }], 'demo')).toThrow(/demo: the batched MLP trainer needs tensors \[W1 \[H, I\], b1 \[H\], W2 \[C, H\], b2 \[C\]\], got w \[3, 4\]/);
  });
});
