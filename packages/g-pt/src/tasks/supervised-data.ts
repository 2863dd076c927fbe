// The data side of a supervised classification task: examples given as an ImageDataset
// (8-bit pixels normalized batch by batch, @gpt/nn/data) or as plain float arrays/tensors,
// seeded epoch batches (shuffle, drop_last, augmentation) and the classification metrics
// computed on the host in float64 from logits.
import type { Augmentation, ImageDataset } from '@gpt/nn/data';
import { normalizedImages } from '@gpt/nn/data';
import { Tensor, type Generator } from '@gpt/tensor';

/** Examples as arrays: inputs [N, ...inputShape] row-major and N integer class labels. */
export interface ArrayDataset {
  readonly name?: string;
  readonly inputs: Float32Array | Tensor;
  readonly inputShape: readonly number[];
  readonly labels: ArrayLike<number> | Tensor;
}

/** What a supervised task trains or tests on. */
export type SupervisedData = ImageDataset | ArrayDataset;

/** A dataset ready for batching: gathers normalized inputs by index. */
export interface ExampleSet {
  readonly name: string;
  readonly count: number;
  /** Shape of one example (e.g. [1, 28, 28]). */
  readonly inputShape: readonly number[];
  /** [count] class indices. */
  readonly labels: Int32Array;
  /** Inputs of the examples at `indices`: [indices.length, ...inputShape] row-major. */
  gather(indices: ArrayLike<number>): Float32Array;
}

/**
 * `count` images spread evenly over `dataset` (every (N/count)-th image, copied), for quick
 * runs on a subset. Evenly spaced rather than the first ones because a dataset may be
 * sorted by class (the bundled MNIST digits are: their first 2,000 hold classes 0-2 only).
 */
export function spreadImages(dataset: ImageDataset, count: number): ImageDataset {
  if (count >= dataset.count) return dataset;
  const size = dataset.channels * dataset.height * dataset.width;
  const pixels = new Uint8Array(count * size);
  const labels = new Uint8Array(count);
  for (let i = 0; i < count; i++) {
    const source = Math.floor((i * dataset.count) / count);
    pixels.set(dataset.pixels.subarray(source * size, (source + 1) * size), i * size);
    labels[i] = dataset.labels[source]!;
  }
  return { ...dataset, name: `${dataset.name} (${count} spread evenly)`, count, pixels, labels };
}

function isImageDataset(data: SupervisedData): data is ImageDataset {
  return (data as ImageDataset).pixels instanceof Uint8Array;
}

/** Checks `data` and wraps it; `where` names the argument in errors (e.g. "train data"). */
export function exampleSet(data: SupervisedData, where: string): ExampleSet {
  if (data === null || typeof data !== 'object') throw new Error(`${where}: expected an ImageDataset or { inputs, inputShape, labels }, got ${String(data)}`);
  if (isImageDataset(data)) {
    return {
      name: data.name,
      count: data.count,
      inputShape: [data.channels, data.height, data.width],
      labels: Int32Array.from(data.labels),
      gather: (indices) => normalizedImages(data, indices),
    };
  }
  const { inputShape } = data;
  if (!Array.isArray(inputShape) || inputShape.length === 0 || !inputShape.every((d) => Number.isSafeInteger(d) && d > 0)) {
    throw new Error(`${where}: inputShape must be a non-empty list of positive integers, got ${JSON.stringify(inputShape)}`);
  }
  const inputs = data.inputs instanceof Tensor ? Float32Array.from(data.inputs.dataSync() as ArrayLike<number>) : data.inputs;
  if (!(inputs instanceof Float32Array)) throw new Error(`${where}: inputs must be a Float32Array or a float32 tensor`);
  const labels = Int32Array.from((data.labels instanceof Tensor ? data.labels.dataSync() : data.labels) as ArrayLike<number>);
  const size = inputShape.reduce((a, b) => a * b, 1);
  if (inputs.length !== labels.length * size) {
    throw new Error(`${where}: ${inputs.length} input values do not match ${labels.length} labels of shape [${inputShape.join(', ')}]`);
  }
  if (labels.length === 0) throw new Error(`${where}: no examples`);
  return {
    name: data.name ?? where,
    count: labels.length,
    inputShape: [...inputShape],
    labels,
    gather: (indices) => {
      const out = new Float32Array(indices.length * size);
      for (let i = 0; i < indices.length; i++) {
        const index = indices[i]!;
        if (!(index >= 0 && index < labels.length)) throw new Error(`${where}: example index ${index} is out of range [0, ${labels.length})`);
        out.set(inputs.subarray(index * size, (index + 1) * size), i * size);
      }
      return out;
    },
  };
}

/** Checks that every label is a class index of a `classes`-way classifier. */
export function checkLabels(set: ExampleSet, classes: number): void {
  for (let i = 0; i < set.count; i++) {
    const label = set.labels[i]!;
    if (!(label >= 0 && label < classes)) throw new Error(`${set.name}: label ${label} of example ${i} is not a class index in [0, ${classes})`);
  }
}

export interface BatchPlan {
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly dropLast: boolean;
}

/** Batches per epoch over `count` examples. */
export function batchesPerEpoch(count: number, plan: BatchPlan): number {
  const n = count / plan.batchSize;
  return plan.dropLast ? Math.floor(n) : Math.ceil(n);
}

/**
 * One epoch's example order: a permutation drawn from `generator` when shuffling (one
 * draw per epoch, before any augmentation of its batches), else 0..count-1.
 */
export function epochOrder(count: number, plan: BatchPlan, generator: Generator): Int32Array {
  return plan.shuffle ? generator.permutation(count) : Int32Array.from({ length: count }, (_, i) => i);
}

/** The indices of batch `b` of an epoch in `order`. */
export function batchIndices(order: Int32Array, b: number, batchSize: number): Int32Array {
  return order.subarray(b * batchSize, Math.min((b + 1) * batchSize, order.length));
}

/** The inputs of a batch, augmented in place with draws from `generator` (after the epoch's permutation). */
export function batchInputs(set: ExampleSet, indices: Int32Array, augment: Augmentation | undefined, generator: Generator): Float32Array {
  const inputs = set.gather(indices); // [B, ...inputShape]
  if (augment) {
    const [c, h, w] = set.inputShape;
    if (set.inputShape.length !== 3) throw new Error(`${set.name}: augmentation needs images [C, H, W], got inputs [${set.inputShape.join(', ')}]`);
    augment(inputs, [indices.length, c!, h!, w!], generator);
  }
  return inputs;
}

/** Sum of cross-entropies (float64) and count of top-1 mistakes over rows of logits [N, C]. */
export interface ClassificationSums {
  lossSum: number;
  wrong: number;
}

/**
 * Adds rows of `logits` [N, C] (row-major) scored against `labels` to `sums`:
 * cross-entropy as logsumexp - logit[label] in float64, and top-1 mistakes (argmax, first
 * maximum wins, as torch.argmax). Typed parameters keep this hot loop monomorphic.
 */
export function addClassificationSums(logits: Float32Array, labels: Int32Array, classes: number, sums: ClassificationSums): void {
  const n = labels.length;
  for (let i = 0; i < n; i++) {
    const row = i * classes;
    let best = 0;
    let max = logits[row]!;
    for (let c = 1; c < classes; c++) {
      const v = logits[row + c]!;
      if (v > max) {
        max = v;
        best = c;
      }
    }
    let total = 0;
    for (let c = 0; c < classes; c++) total += Math.exp(logits[row + c]! - max);
    const label = labels[i]!;
    sums.lossSum += Math.log(total) + max - logits[row + label]!;
    if (best !== label) sums.wrong++;
  }
}

/** Mean loss and error in percent from sums over `count` examples. */
export function classificationMetrics(sums: ClassificationSums, count: number): { loss: number; error: number } {
  return { loss: sums.lossSum / count, error: (100 * sums.wrong) / count };
}
