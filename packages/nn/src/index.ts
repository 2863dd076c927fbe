// @gpt/nn: PyTorch-style modules, layers, initializers, losses, optimizers, LR
// schedules, gradient clipping, EMA and flat parameter vectors on @gpt/tensor.
// Dataset loaders (MNIST, CIFAR-10) live in the "@gpt/nn/data" subpath.

export { Module, parameter, buffer, isParameter, type Layer, type StateDict, type StateDictInput, type LoadStateDictOptions } from './module.js';
export { Linear, type LinearOptions } from './layers/linear.js';
export { Conv2d, type Conv2dOptions } from './layers/conv2d.js';
export { LayerNorm, type LayerNormOptions } from './layers/layer-norm.js';
export { Dropout } from './layers/dropout.js';
export { ReLU, GELU, SELU, Tanh, Sigmoid } from './layers/activations.js';
export { Flatten } from './layers/flatten.js';
export { GlobalAvgPool2d } from './layers/global-avg-pool2d.js';
export { Sequential } from './layers/sequential.js';
export * as init from './init.js';
export { crossEntropy, nllLoss, mse, type Reduction } from './losses.js';
export {
  Optimizer,
  type BaseOptions,
  type ParamGroup,
  type ParamGroupInput,
  type ParamState,
  type ParamStateInput,
  type OptimizerStateDict,
  type OptimizerStateDictInput,
} from './optim/optimizer.js';
export { SGD, type SGDOptions } from './optim/sgd.js';
export { Adam, AdamW, type AdamOptions } from './optim/adam.js';
export { weightDecayParamGroups, decayTwoOrMoreDims, type DecayPredicate } from './optim/param-groups.js';
export { cosineDecay, linearWarmup, composeSchedules, perEpoch, applyLrSchedule, type LrSchedule } from './optim/lr-schedule.js';
export { clipGradNorm } from './optim/clip-grad-norm.js';
export { EMA } from './optim/ema.js';
export { flattenParameters, loadFlat, loadFlatAsync, parameterSizes } from './flat-parameters.js';
export {
  saveStateDict,
  loadStateDictBytes,
  saveOptimizerState,
  loadOptimizerStateBytes,
  safetensorsDtype,
  fromSafetensors,
  type LoadBytesOptions,
} from './serialization.js';
