// K runs of a one-hidden-layer ReLU MLP classifier (the MNIST task's 784-10-10) trained at
// once as one computation: the runs' first-layer weights are stacked [K, H, I] and their
// minibatches [K, B, I], so the two big products of every step (the hidden layer forward
// and its weight gradient) are one batched matmul each through @gpt/tensor's WASM kernels;
// the small rest (bias, ReLU, the H x C output layer, softmax cross-entropy and its
// gradient, SGD with Nesterov momentum per run) runs on the host over flat arrays.
//
// Each run keeps its own seed, data order and saved iterations: it follows the draw order
// of run-schedule.ts exactly as SupervisedTask.trainRunsOneByOne does, so the result equals
// training the runs one by one up to float rounding (test: tasks-batched.test.ts). Test
// metrics of saved checkpoints are measured in groups (one matmul of the test set against
// up to EVAL_GROUP checkpoints' stacked first layers): they depend only on the saved
// parameters, so measuring them later changes nothing.
import type { RunData, TensorSpec } from '@gpt/checkpoints';
import { flattenParameters } from '@gpt/nn';
import { Generator, matmul, tensor, type Tensor } from '@gpt/tensor';
import { checkCheckpointsPerRun, checkRuns, runStreams, savedIterations, yieldToEventLoop } from './run-schedule.js';
import { epochLearningRate, RunRecorder, type SupervisedTask } from './supervised.js';
import { batchIndices, batchInputs, epochOrder } from './supervised-data.js';
import type { TrainRunsOptions } from './task.js';

/** Sizes of an MLP with state dict [W1 [H, I], b1 [H], W2 [C, H], b2 [C]]. */
export interface MlpLayout {
  readonly inputs: number;
  readonly hidden: number;
  readonly classes: number;
}

/** Checkpoints whose test metrics one grouped matmul measures. */
const EVAL_GROUP = 32;
/** Above this many float inputs the training set is normalized batch by batch instead of once. */
const MAX_CACHED_INPUTS = 1 << 26;

/** The MLP layout of a task's tensors, or an error saying why the batched trainer cannot train it. */
export function mlpLayout(tensors: readonly TensorSpec[], where: string): MlpLayout {
  const shapes = tensors.map((t) => t.shape);
  const [w1, b1, w2, b2] = shapes;
  const ok =
    shapes.length === 4 &&
    w1!.length === 2 &&
    b1!.length === 1 &&
    w2!.length === 2 &&
    b2!.length === 1 &&
    b1![0] === w1![0] &&
    w2![1] === w1![0] &&
    b2![0] === w2![0];
  if (!ok) {
    throw new Error(`${where}: the batched MLP trainer needs tensors [W1 [H, I], b1 [H], W2 [C, H], b2 [C]], got ${tensors.map((t) => `${t.name} [${t.shape.join(', ')}]`).join(', ')}`);
  }
  return { inputs: w1![1]!, hidden: w1![0]!, classes: w2![0]! };
}

/** One run's place in the batch: its generators, saved iterations and recorder. */
interface RunSlot {
  readonly run: number;
  readonly saved: Int32Array;
  readonly data: Generator;
  readonly recorder: RunRecorder;
  /** Index of the next saved checkpoint. */
  next: number;
  order: Int32Array;
}

/** A saved checkpoint waiting for its test metrics. */
interface PendingEval {
  readonly slot: RunSlot;
  readonly checkpoint: number;
}

/**
 * Trains `runs` of `task` (a Linear-ReLU-Linear classifier, e.g. MNIST's) as one batched
 * computation. The task's network must compute logits = W2 relu(W1 x + b1) + b2 on the
 * flattened input; its layout is checked, its function is what the equivalence test checks.
 */
export async function trainMlpRunsBatched(task: SupervisedTask, runs: readonly number[], options: TrainRunsOptions): Promise<RunData[]> {
  const where = `${task.name}.trainRuns (batched)`;
  checkRuns(where, runs);
  checkCheckpointsPerRun(options.checkpointsPerRun, task.totalIterations);
  if (runs.length === 0) return [];
  const { inputs: I, hidden: H, classes: C } = mlpLayout(task.tensors, where);
  const { sgd, trainSet, testSet, totalIterations, iterationsPerEpoch } = task;
  const inputSize = trainSet.inputShape.reduce((a, b) => a * b, 1);
  if (inputSize !== I || C !== task.classes) throw new Error(`${where}: the network takes ${I} inputs to ${C} classes, the data has ${inputSize} inputs and ${task.classes} classes`);
  const K = runs.length;
  const D = task.parameterCount;
  const R = D - H * I; // b1, W2, b2 of one run
  const W1 = new Float32Array(K * H * I); // [K, H, I]
  const rest = new Float32Array(K * R); // [K, R]
  const slots: RunSlot[] = runs.map((run, k) => {
    const streams = runStreams(run);
    const saved = savedIterations(new Generator(streams.scheduleSeed), totalIterations, options.checkpointsPerRun);
    const network = task.createNetwork(new Generator(streams.initSeed));
    const flat = flattenParameters(network); // [D]
    const values = flat.dataSync() as Float32Array;
    W1.set(values.subarray(0, H * I), k * H * I);
    rest.set(values.subarray(H * I), k * R);
    flat.dispose();
    network.dispose();
    return { run, saved, data: new Generator(streams.dataSeed), recorder: new RunRecorder(saved, D), next: 1, order: new Int32Array(0) };
  });
  const momentumW1 = new Float32Array(W1.length);
  const momentumRest = new Float32Array(rest.length);
  let firstStep = true; // torch's SGD starts each momentum buffer at the first step's d
  const cached = !task.augment && trainSet.count * I <= MAX_CACHED_INPUTS ? trainSet.gather(Int32Array.from({ length: trainSet.count }, (_, i) => i)) : null; // [N, I]
  const testInputs = tensor(testSet.gather(Int32Array.from({ length: testSet.count }, (_, i) => i)), { shape: [testSet.count, I] }); // [Nt, I]
  const pending: PendingEval[] = [];
  const saveCheckpoint = (slot: RunSlot, k: number, checkpoint: number) => {
    const row = slot.recorder.parameters.subarray(checkpoint * D, (checkpoint + 1) * D);
    row.set(W1.subarray(k * H * I, (k + 1) * H * I), 0);
    row.set(rest.subarray(k * R, (k + 1) * R), H * I);
    pending.push({ slot, checkpoint });
    if (pending.length >= EVAL_GROUP) measurePending(pending, testInputs, testSet.labels, { I, H, C }, D);
  };
  // Reused every step (a fresh 3-6 MB batch per step would keep the garbage collector busy).
  const fullBatch = sgd.batchSize;
  const x = new Float32Array(K * fullBatch * I); // [K, B, I]
  const labels = new Int32Array(K * fullBatch); // [K, B]
  const gradPre = new Float32Array(K * H * fullBatch); // [K, H, B]
  const gradRest = new Float32Array(K * R); // [K, R]
  const scratch = hostScratch(H, C);
  try {
    slots.forEach((slot, k) => saveCheckpoint(slot, k, 0));
    let iteration = 0;
    for (let epoch = 0; epoch < sgd.epochs; epoch++) {
      const lr = epochLearningRate(sgd, epoch);
      for (const slot of slots) slot.order = epochOrder(trainSet.count, sgd, slot.data);
      for (let b = 0; b < iterationsPerEpoch; b++) {
        options.signal?.throwIfAborted();
        iteration++;
        const B = batchIndices(slots[0]!.order, b, sgd.batchSize).length; // every run's batch b has the same size
        slots.forEach((slot, k) => gatherBatch(task, slot, cached, b, k, B, x, labels));
        const xTensor = tensor(x.subarray(0, K * B * I), { shape: [K, B, I] }); // [K, B, I]
        try {
          const preActivations = batchedProduct(W1, [K, H, I], xTensor, true); // [K, H, B] = W1 xᵀ
          const train = slots.map((_, k) => hostLayers(k, { H, C, B, R }, preActivations, rest, labels, gradPre, gradRest, scratch));
          const gradW1 = batchedProduct(gradPre.subarray(0, K * H * B), [K, H, B], xTensor, false); // [K, H, I] = dZ x
          sgdStep(W1, gradW1, momentumW1, lr, sgd, firstStep);
          sgdStep(rest, gradRest, momentumRest, lr, sgd, firstStep);
          firstStep = false;
          slots.forEach((slot, k) => {
            if (iteration === 1) slot.recorder.saveTrainMetrics(0, train[k]!);
            if (slot.saved[slot.next] === iteration) {
              slot.recorder.saveTrainMetrics(slot.next, train[k]!);
              saveCheckpoint(slot, k, slot.next);
              slot.next++;
            }
          });
        } finally {
          xTensor.dispose();
        }
      }
      for (const slot of slots) options.onProgress?.({ type: 'run-progress', run: slot.run, done: iteration, total: totalIterations });
      await yieldToEventLoop();
    }
    measurePending(pending, testInputs, testSet.labels, { I, H, C }, D);
    return slots.map((slot) => slot.recorder.result());
  } finally {
    testInputs.dispose();
  }
}

/** Writes run k's batch b (inputs and labels) into its rows of the stacked batch. */
function gatherBatch(task: SupervisedTask, slot: RunSlot, cached: Float32Array | null, b: number, k: number, B: number, x: Float32Array, labels: Int32Array): void {
  const { trainSet, sgd } = task;
  const I = cached ? cached.length / trainSet.count : 0;
  const indices = batchIndices(slot.order, b, sgd.batchSize);
  if (cached) {
    for (let i = 0; i < B; i++) x.set(cached.subarray(indices[i]! * I, (indices[i]! + 1) * I), (k * B + i) * I);
  } else {
    const inputs = batchInputs(trainSet, indices, task.augment, slot.data); // [B, I]
    x.set(inputs, k * inputs.length);
  }
  for (let i = 0; i < B; i++) labels[k * B + i] = trainSet.labels[indices[i]!]!;
}

/** a [K, M, L] (host) times bᵀ or b, with b [K, N, L] or [K, L, N] a tensor: the host values of the [K, M, N] product. */
function batchedProduct(a: Float32Array, shape: readonly [number, number, number], b: Tensor, transB: boolean): Float32Array {
  const aTensor = tensor(a, { shape });
  const product = matmul(aTensor, b, { transB });
  try {
    return product.dataSync() as Float32Array;
  } finally {
    aTensor.dispose();
    product.dispose();
  }
}

/** Buffers of the host layers, allocated once per batched training. */
interface HostScratch {
  readonly hidden: Float64Array; // [H]
  readonly logits: Float64Array; // [C]
  /** One run's output layer [C, H] and bias [C], and their gradient sums, in float64. */
  readonly w2: Float64Array;
  readonly b2: Float64Array;
  readonly gw2: Float64Array;
  readonly gb2: Float64Array;
  readonly gb1: Float64Array; // [H]
}

function hostScratch(hidden: number, classes: number): HostScratch {
  return {
    hidden: new Float64Array(hidden),
    logits: new Float64Array(classes),
    w2: new Float64Array(classes * hidden),
    b2: new Float64Array(classes),
    gw2: new Float64Array(classes * hidden),
    gb2: new Float64Array(classes),
    gb1: new Float64Array(hidden),
  };
}

/** Copies the output layer W2 [C, H] at `w2` and b2 [C] at `b2` of `params` into the scratch (float64, read many times). */
function loadOutputLayer(params: Float32Array, w2: number, b2: number, scratch: HostScratch): void {
  scratch.w2.set(params.subarray(w2, w2 + scratch.w2.length));
  scratch.b2.set(params.subarray(b2, b2 + scratch.b2.length));
}

/** logits = W2 hidden + b2 for one example (the scratch's output layer); returns the first index of the maximum (torch.argmax's tie rule). */
function outputRow(scratch: HostScratch): number {
  const { hidden, logits, w2, b2 } = scratch;
  const H = hidden.length;
  let best = 0;
  for (let c = 0; c < logits.length; c++) {
    let s = b2[c]!;
    for (let h = 0; h < H; h++) s += w2[c * H + h]! * hidden[h]!;
    logits[c] = s;
    if (s > logits[best]!) best = c;
  }
  return best;
}

/** Turns logits into softmax probabilities in place and returns the cross-entropy of `label`. */
function softmaxCrossEntropy(logits: Float64Array, label: number): number {
  let max = -Infinity;
  for (let c = 0; c < logits.length; c++) max = Math.max(max, logits[c]!);
  const target = logits[label]!;
  let total = 0;
  for (let c = 0; c < logits.length; c++) total += logits[c] = Math.exp(logits[c]! - max);
  for (let c = 0; c < logits.length; c++) logits[c] = logits[c]! / total;
  return Math.log(total) + max - target;
}

/**
 * Run k's layers after the big product, forward and backward: hidden = relu(W1 x + b1),
 * logits = W2 hidden + b2, mean cross-entropy; writes d loss / d (W1 x) into gradPre [K, H, B]
 * and the gradients of b1, W2, b2 into gradRest [K, R]. Returns the minibatch's loss and
 * error (%), measured before the step.
 */
function hostLayers(
  k: number,
  sizes: { H: number; C: number; B: number; R: number },
  preActivations: Float32Array,
  rest: Float32Array,
  labels: Int32Array,
  gradPre: Float32Array,
  gradRest: Float32Array,
  scratch: HostScratch,
): { loss: number; error: number } {
  const { H, C, B, R } = sizes;
  const b1 = k * R; // offsets of run k's b1 [H], W2 [C, H], b2 [C] in rest and gradRest
  const w2Offset = b1 + H;
  const b2Offset = w2Offset + C * H;
  const pre = k * H * B; // run k's [H, B] block of preActivations and gradPre
  loadOutputLayer(rest, w2Offset, b2Offset, scratch);
  const { hidden, logits, w2, gw2, gb2, gb1 } = scratch;
  gw2.fill(0);
  gb2.fill(0);
  gb1.fill(0);
  let lossSum = 0;
  let wrong = 0;
  for (let i = 0; i < B; i++) {
    for (let h = 0; h < H; h++) hidden[h] = Math.max(0, preActivations[pre + h * B + i]! + rest[b1 + h]!);
    const label = labels[k * B + i]!;
    if (outputRow(scratch) !== label) wrong++;
    lossSum += softmaxCrossEntropy(logits, label);
    // d mean-CE / d logits = (softmax - onehot) / B, kept in logits
    for (let c = 0; c < C; c++) {
      const g = (logits[c]! - (c === label ? 1 : 0)) / B;
      logits[c] = g;
      gb2[c]! += g;
      for (let h = 0; h < H; h++) gw2[c * H + h]! += g * hidden[h]!;
    }
    for (let h = 0; h < H; h++) {
      let g = 0;
      if (hidden[h]! > 0) for (let c = 0; c < C; c++) g += w2[c * H + h]! * logits[c]!; // ReLU passes no gradient where it is 0
      gradPre[pre + h * B + i] = g;
      gb1[h]! += g;
    }
  }
  gradRest.set(gb1, b1);
  gradRest.set(gw2, w2Offset);
  gradRest.set(gb2, b2Offset);
  return { loss: lossSum / B, error: (100 * wrong) / B };
}

/** torch.optim.SGD's step (weight decay, momentum, dampening 0, Nesterov) over flat arrays; the first step starts the buffer at d. */
function sgdStep(params: Float32Array, grads: Float32Array, buffers: Float32Array, lr: number, recipe: SupervisedTask['sgd'], first: boolean): void {
  const { momentum, weightDecay, nesterov } = recipe;
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    let d = grads[i]! + weightDecay * p;
    if (momentum !== 0) {
      const buffer = first ? d : momentum * buffers[i]! + d;
      buffers[i] = buffer;
      d = nesterov ? d + momentum * buffers[i]! : buffers[i]!;
    }
    params[i] = p - lr * d;
  }
}

/** Measures the test metrics of every pending checkpoint (grouped matmuls) and empties the list. */
function measurePending(pending: PendingEval[], testInputs: Tensor, testLabels: Int32Array, sizes: { I: number; H: number; C: number }, D: number): void {
  const { I, H, C } = sizes;
  while (pending.length > 0) {
    const group = pending.splice(0, EVAL_GROUP);
    const m = group.length;
    const w1 = new Float32Array(m * H * I); // [m H, I]
    group.forEach(({ slot, checkpoint }, j) => w1.set(slot.recorder.parameters.subarray(checkpoint * D, checkpoint * D + H * I), j * H * I));
    const w1Tensor = tensor(w1, { shape: [m * H, I] });
    const product = matmul(testInputs, w1Tensor, { transB: true }); // [N, m H]
    const pre = product.dataSync() as Float32Array;
    const scratch = hostScratch(H, C);
    group.forEach(({ slot, checkpoint }, j) => {
      const row = slot.recorder.parameters.subarray(checkpoint * D, (checkpoint + 1) * D);
      slot.recorder.saveTestMetrics(checkpoint, checkpointTestMetrics(pre, m, j, row, testLabels, { I, H }, scratch));
    });
    w1Tensor.dispose();
    product.dispose();
  }
}

/** Mean cross-entropy and error (%) of checkpoint j of a group of m, from the group's test pre-activations [N, m H]. */
function checkpointTestMetrics(pre: Float32Array, m: number, j: number, row: Float32Array, labels: Int32Array, sizes: { I: number; H: number }, scratch: HostScratch): { loss: number; error: number } {
  const { I, H } = sizes;
  const C = scratch.logits.length;
  const b1 = H * I; // offsets of b1 [H], W2 [C, H], b2 [C] in the flat checkpoint
  const w2 = b1 + H;
  loadOutputLayer(row, w2, w2 + C * H, scratch);
  const { hidden, logits } = scratch;
  const N = labels.length;
  let lossSum = 0;
  let wrong = 0;
  for (let i = 0; i < N; i++) {
    const at = i * m * H + j * H;
    for (let h = 0; h < H; h++) hidden[h] = Math.max(0, pre[at + h]! + row[b1 + h]!);
    const label = labels[i]!;
    if (outputRow(scratch) !== label) wrong++;
    lossSum += softmaxCrossEntropy(logits, label);
  }
  return { loss: lossSum / N, error: (100 * wrong) / N };
}
