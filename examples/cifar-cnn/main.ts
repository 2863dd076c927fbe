// The G.pt paper's CIFAR-10 network (data_gen/train_cifar10.py ConvNet, 5,370
// parameters): conv 3->16 k3 s2 p1 (no bias), ReLU, conv 16->32 k3 s1 p1 (no bias),
// ReLU, global average pool, linear 32->10. Trained with the paper's recipe: SGD with
// Nesterov momentum 0.9, lr 0.1, weight decay 5e-4, batch 128 (shuffled, drop_last),
// cosine lr stepped once per epoch, cross-entropy, 50 epochs as in the released data
// generation; training images are flipped and randomly cropped after normalization.
//
// Run from the repository root, with DIR holding the CIFAR-10 binary batches
// (data_batch_1.bin ... data_batch_5.bin, test_batch.bin, or the archive's
// cifar-10-batches-bin folder; --help lists the options):
//   pnpm example cifar-cnn --data DIR [--epochs N] [--seed S] [--batch-size B]

import { pathToFileURL } from 'node:url';
import { defineCli, describeRuntime, runCli, type CliValues } from '@gpt/g-pt/cli';
import { applyLrSchedule, cosineDecay, crossEntropy, perEpoch, SGD } from '@gpt/nn';
import { DataLoader, randomCropFlip } from '@gpt/nn/data';
import { loadCifar10 } from '@gpt/nn/data-node';
import { argmax, equal, Generator, memory, noGrad, tidy } from '@gpt/tensor';
import { Cifar10Cnn } from '@gpt/g-pt'; // data_gen/train_cifar10.py's ConvNet(ws=[16, 32])

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
  data: string;
  epochs?: number;
  seed?: number;
  batchSize?: number;
  onEpoch?: (report: EpochReport) => void;
  signal?: AbortSignal;
}

/** Mean cross-entropy and top-1 error (%) over the test set, in chunks to bound memory. */
function evaluate(model: Cifar10Cnn, loader: DataLoader): { loss: number; error: number } {
  let lossSum = 0;
  let wrong = 0;
  for (const { x, y } of loader) {
    noGrad(() =>
      tidy(() => {
        const logits = model.forward(x); // [B, 10]
        lossSum += crossEntropy(logits, y, 'sum').item();
        wrong += x.shape[0]! - equal(argmax(logits, 1), y).astype('float32').sum().item();
      }),
    );
    x.dispose();
    y.dispose();
  }
  const count = loader.dataset.count;
  return { loss: lossSum / count, error: (wrong / count) * 100 };
}

export async function train(options: TrainOptions): Promise<EpochReport[]> {
  const epochs = options.epochs ?? 50;
  const batchSize = options.batchSize ?? 128;
  const trainSet = await loadCifar10(options.data, 'train');
  const testSet = await loadCifar10(options.data, 'test');
  const generator = new Generator(options.seed ?? 0);
  const model = new Cifar10Cnn(generator);
  const optimizer = new SGD(model.parameters(), { lr: 0.1, momentum: 0.9, nesterov: true, weightDecay: 5e-4 });
  const schedule = perEpoch(cosineDecay(epochs));
  const loader = new DataLoader(trainSet, { batchSize, shuffle: true, dropLast: true, generator, augment: randomCropFlip });
  const testLoader = new DataLoader(testSet, { batchSize: 1000 });
  const reports: EpochReport[] = [];
  try {
    for (let epoch = 0; epoch < epochs; epoch++) {
      const start = performance.now();
      const lr = 0.1 * applyLrSchedule(optimizer, schedule, epoch);
      model.train();
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
      model.eval();
      const { loss, error } = evaluate(model, testLoader);
      const report = { epoch: epoch + 1, lr, trainLoss: lossSum / loader.length, testLoss: loss, testError: error, seconds: (performance.now() - start) / 1000 };
      reports.push(report);
      options.onEpoch?.(report);
    }
  } finally {
    optimizer.zeroGrad();
    optimizer.dispose();
    model.dispose();
  }
  return reports;
}

export const cli = defineCli({
  name: 'pnpm example cifar-cnn',
  summary: "The G.pt paper's CIFAR-10 CNN (5,370 parameters) trained with the paper's SGD recipe, flips and crops.",
  options: {
    data: { type: 'string', required: true, placeholder: 'DIR', description: 'folder with the CIFAR-10 binary batches (data_batch_1.bin ... test_batch.bin)' },
    epochs: { type: 'integer', default: 50, min: 0, description: 'training epochs' },
    seed: { type: 'integer', default: 0, min: 0, description: 'seed of the initialization, data order and augmentation' },
    batchSize: { type: 'integer', default: 128, min: 1, description: 'training batch size' },
  },
});

export async function main(options: CliValues<typeof cli.options>): Promise<void> {
  const { data, epochs, seed, batchSize } = options;
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  console.log(`CIFAR-10 CNN (5,370 parameters); SGD nesterov lr 0.1 momentum 0.9 wd 5e-4, batch ${batchSize}, per-epoch cosine, ${epochs} epochs, flip + crop, seed ${seed}`);
  console.log(`data: ${data}`);
  console.log(describeRuntime());
  console.log('epoch       lr  train loss  test loss  test err %  seconds');
  const reports = await train({
    data,
    epochs,
    seed,
    batchSize,
    signal: controller.signal,
    onEpoch: (r) =>
      console.log(
        `${String(r.epoch).padStart(5)}  ${r.lr.toFixed(5)}  ${r.trainLoss.toFixed(4).padStart(10)}  ${r.testLoss.toFixed(4).padStart(9)}  ${r.testError.toFixed(2).padStart(10)}  ${r.seconds.toFixed(2).padStart(7)}`,
      ),
  });
  process.off('SIGINT', onSignal);
  const last = reports.at(-1);
  if (last) console.log(`final test accuracy ${(100 - last.testError).toFixed(2)}% (loss ${last.testLoss.toFixed(4)}); live tensors ${memory().tensors}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runCli(cli, main);
