// The losses are the tensor package's functional ones (one implementation each),
// re-exported so a model file needs only @gpt/nn: crossEntropy(logits [N, C], int32
// labels [N]), nllLoss(logProbs, labels), mse(prediction, target); reduction
// 'mean' | 'sum' | 'none' as in PyTorch.

export { crossEntropy, nllLoss, mse, type Reduction } from '@gpt/tensor';
