// Bad input throws an error that names the op and the offending shapes, dtypes
// or values, and leaves no tensor behind. Each row: what is wrong, how to build
// the inputs, the call, and the parts of the message that must appear.

import * as T from '@gpt/tensor';
import { runOp } from '@gpt/tensor/internal';
import { memory, tensor, type Tensor } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';

interface ErrorCase {
  readonly what: string;
  readonly inputs?: () => Tensor[];
  readonly call: (...xs: Tensor[]) => unknown;
  readonly message: RegExp;
}

const f = (shape: number[]): Tensor => T.zeros(shape);
const i = (shape: number[]): Tensor => T.zeros(shape, { dtype: 'int32' });
const b = (shape: number[]): Tensor => T.zeros(shape, { dtype: 'bool' });
const requiringGrad = (t: Tensor): Tensor => {
  t.requiresGrad = true;
  return t;
};

const GROUPS: Record<string, ErrorCase[]> = {
  broadcasting: [
    { what: 'add [3] + [4]', inputs: () => [f([3]), f([4])], call: (x, y) => T.add(x!, y!), message: /^add: shapes \[3\] and \[4\] cannot be broadcast together/ },
    { what: 'mul [2, 3] * [3, 2]', inputs: () => [f([2, 3]), f([3, 2])], call: (x, y) => T.mul(x!, y!), message: /^mul: shapes \[2, 3\] and \[3, 2\] cannot be broadcast together \(axis -2\)/ },
    { what: 'where with three incompatible shapes', inputs: () => [b([2]), f([3]), f([1])], call: (c, x, y) => T.where(c!, x!, y!), message: /^where: shapes \[2\] and \[3\] and \[1\] cannot be broadcast/ },
    { what: 'expand [3] to [2, 4]', inputs: () => [f([3])], call: (x) => T.expand(x!, [2, 4]), message: /^expand: shapes \[3\] and \[2, 4\] cannot be broadcast/ },
    { what: 'expand [2, 3] to a lower rank [3]', inputs: () => [f([2, 3])], call: (x) => T.expand(x!, [3]), message: /^expand: cannot expand \[2, 3\] to \[3\]/ },
    { what: 'matmul batch dims [2, 3, 4] x [3, 4, 5]', inputs: () => [f([2, 3, 4]), f([3, 4, 5])], call: (x, y) => T.matmul(x!, y!), message: /^matmul: shapes \[2\] and \[3\] cannot be broadcast/ },
  ],
  'matmul shapes': [
    { what: 'inner dimensions', inputs: () => [f([2, 3]), f([4, 5])], call: (x, y) => T.matmul(x!, y!), message: /^matmul: inner dimensions differ: \[2, 3\] x \[4, 5\] \(3 vs 4\)/ },
    { what: 'inner dimensions with transB', inputs: () => [f([2, 3]), f([3, 4])], call: (x, y) => T.matmul(x!, y!, { transB: true }), message: /^matmul: inner dimensions differ: \[2, 3\] x \[3, 4\]ᵀ \(3 vs 4\)/ },
    { what: 'vector lengths', inputs: () => [f([3]), f([4])], call: (x, y) => T.matmul(x!, y!), message: /^matmul: inner dimensions differ: \[1, 3\] x \[4, 1\]/ },
    { what: '0-d operand', inputs: () => [f([]), f([3])], call: (x, y) => T.matmul(x!, y!), message: /^matmul: inputs must have at least one axis/ },
  ],
  dtypes: [
    { what: 'float32 + int32', inputs: () => [f([2]), i([2])], call: (x, y) => T.add(x!, y!), message: /^add: dtypes differ \(\[2\] float32, \[2\] int32\); cast one input first/ },
    { what: 'exp of int32', inputs: () => [i([2])], call: (x) => T.exp(x!), message: /^exp: input has dtype int32, expected float32/ },
    { what: 'div of int32', inputs: () => [i([2]), i([2])], call: (x, y) => T.div(x!, y!), message: /^div: input has dtype int32, expected float32/ },
    { what: 'less of bool', inputs: () => [b([2]), b([2])], call: (x, y) => T.less(x!, y!), message: /^less: input has dtype bool, expected float32 or int32/ },
    { what: 'logicalAnd of float32', inputs: () => [f([2]), f([2])], call: (x, y) => T.logicalAnd(x!, y!), message: /^logicalAnd: input has dtype float32, expected bool/ },
    { what: 'matmul of int32', inputs: () => [i([2, 2]), i([2, 2])], call: (x, y) => T.matmul(x!, y!), message: /^matmul: input has dtype int32, expected float32/ },
    { what: 'where with a float condition', inputs: () => [f([2]), f([2]), f([2])], call: (c, x, y) => T.where(c!, x!, y!), message: /^where: condition has dtype float32, expected bool/ },
    { what: 'where with branches of different dtypes', inputs: () => [b([2]), f([2]), i([2])], call: (c, x, y) => T.where(c!, x!, y!), message: /^where: branches have different dtypes \(\[2\] float32, \[2\] int32\)/ },
    { what: 'sum of bool', inputs: () => [b([2])], call: (x) => T.sum(x!), message: /^sum: input has dtype bool, expected float32 or int32/ },
    { what: 'softmax of int32', inputs: () => [i([2])], call: (x) => T.softmax(x!), message: /^softmax: input has dtype int32, expected float32/ },
    { what: 'concat of float32 and int32', inputs: () => [f([2]), i([2])], call: (x, y) => T.concat([x!, y!]), message: /^concat: dtypes differ \(\[2\] float32, \[2\] int32\)/ },
    { what: 'gather with a float index', inputs: () => [f([2, 2]), f([2, 2])], call: (x, y) => T.gather(x!, 0, y!), message: /^gather: index has dtype float32, expected int32/ },
    { what: 'scatterAdd with src of another dtype', inputs: () => [f([3]), i([2]), i([2])], call: (x, y, z) => T.scatterAdd(x!, 0, y!, z!), message: /^scatterAdd: src dtype int32 differs from input dtype float32/ },
    { what: 'crossEntropy with float labels', inputs: () => [f([2, 3]), f([2])], call: (x, y) => T.crossEntropy(x!, y!), message: /^nllLoss: labels must be int32, got float32/ },
    { what: 'oneHot of float indices', inputs: () => [f([3])], call: (x) => T.oneHot(x!, 4), message: /^oneHot: indices must be int32, got float32/ },
    { what: 'unknown dtype', call: () => tensor([1], { dtype: 'float64' as never }), message: /^tensor: unknown dtype "float64"/ },
  ],
  axes: [
    { what: 'sum axis 2 of rank 2', inputs: () => [f([2, 3])], call: (x) => T.sum(x!, 2), message: /^sum: axis 2 is out of range for a tensor of rank 2/ },
    { what: 'mean axis -3 of rank 2', inputs: () => [f([2, 3])], call: (x) => T.mean(x!, -3), message: /^mean: axis -3 is out of range for a tensor of rank 2/ },
    { what: 'max repeated axes', inputs: () => [f([2, 3])], call: (x) => T.max(x!, [1, -1]), message: /^max: repeated axis in \[1, -1\]/ },
    { what: 'max over an empty axis', inputs: () => [f([0, 3])], call: (x) => T.max(x!, 0), message: /^max: cannot reduce over empty axis 0 of \[0, 3\]/ },
    { what: 'argmax axis 1 of rank 1', inputs: () => [f([4])], call: (x) => T.argmax(x!, 1), message: /^argmax: axis 1 is out of range for a tensor of rank 1/ },
    { what: 'argmin of an empty tensor', inputs: () => [f([0])], call: (x) => T.argmin(x!), message: /^argmin: cannot reduce over empty axis/ },
    { what: 'softmax axis -4 of rank 3', inputs: () => [f([2, 2, 2])], call: (x) => T.softmax(x!, -4), message: /^softmax: axis -4 is out of range for a tensor of rank 3/ },
    { what: 'logSoftmax axis 1 of rank 1', inputs: () => [f([3])], call: (x) => T.logSoftmax(x!, 1), message: /^logSoftmax: axis 1 is out of range/ },
    { what: 'concat axis 2 of rank 2', inputs: () => [f([2, 2]), f([2, 2])], call: (x, y) => T.concat([x!, y!], 2), message: /^concat: axis 2 is out of range for a tensor of rank 2/ },
    { what: 'stack axis 3 of rank 1 inputs', inputs: () => [f([2]), f([2])], call: (x, y) => T.stack([x!, y!], 3), message: /^stack: axis 3 is out of range for a tensor of rank 2/ },
    { what: 'unsqueeze axis 3 of rank 1', inputs: () => [f([2])], call: (x) => T.unsqueeze(x!, 3), message: /^unsqueeze: axis 3 is out of range/ },
    { what: 'squeeze an axis of size 3', inputs: () => [f([3, 1])], call: (x) => T.squeeze(x!, 0), message: /^squeeze: axis 0 of \[3, 1\] has size 3, not 1/ },
    { what: 'transpose axis 5', inputs: () => [f([2, 3])], call: (x) => T.transpose(x!, 0, 5), message: /^transpose: axis 5 is out of range/ },
    { what: 'permute with a repeated axis', inputs: () => [f([2, 3])], call: (x) => T.permute(x!, [0, 0]), message: /^permute: \[0, 0\] is not a permutation of the 2 axes of \[2, 3\]/ },
    { what: 'permute of the wrong length', inputs: () => [f([2, 3])], call: (x) => T.permute(x!, [0]), message: /^permute: \[0\] is not a permutation/ },
    { what: 'flatten with start after end', inputs: () => [f([2, 3, 4])], call: (x) => T.flatten(x!, 2, 1), message: /^flatten: startAxis 2 comes after endAxis 1/ },
    { what: 'split axis -3 of rank 2', inputs: () => [f([2, 3])], call: (x) => T.split(x!, 1, -3), message: /^split: axis -3 is out of range/ },
  ],
  reshape: [
    { what: 'wrong element count', inputs: () => [f([2, 3])], call: (x) => T.reshape(x!, [4]), message: /^reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4\]/ },
    { what: 'two -1 dimensions', inputs: () => [f([2, 3])], call: (x) => T.reshape(x!, [-1, -1]), message: /^reshape: only one dimension may be -1, got \[-1, -1\]/ },
    { what: '-1 that does not divide', inputs: () => [f([2, 3])], call: (x) => T.reshape(x!, [4, -1]), message: /^reshape: cannot reshape \[2, 3\] \(6 elements\) to \[4, -1\]/ },
    { what: 'negative dimension', inputs: () => [f([2, 3])], call: (x) => T.reshape(x!, [-2, -3]), message: /^reshape: invalid shape \[-2, -3\]: dimensions must be non-negative integers/ },
    { what: 'fractional dimension', inputs: () => [f([2, 3])], call: (x) => T.reshape(x!, [1.5, 4]), message: /^reshape: invalid shape \[1\.5, 4\]/ },
  ],
  'creating tensors': [
    { what: 'ragged nested array', call: () => tensor([[1, 2], [3]]), message: /^tensor: ragged nested array: axis 1 should have length 2 \(shape \[2, 2\]\)/ },
    { what: 'array where a number is expected', call: () => tensor([1, [2, 3]] as never), message: /^tensor: ragged nested array \(expected shape \[2\]\)/ },
    { what: 'a string element', call: () => tensor(['a'] as never), message: /^tensor: element a is not a number or boolean/ },
    { what: 'values that do not fill the shape', call: () => tensor(new Float32Array(5), { shape: [2, 3] }), message: /^tensor: 5 values do not fill shape \[2, 3\] \(6 elements\)/ },
    { what: 'full with a negative dimension', call: () => T.full([2, -1], 0), message: /^fill: invalid shape \[2, -1\]/ },
    { what: 'zeros with a fractional dimension', call: () => T.zeros([1.5]), message: /^fill: invalid shape \[1\.5\]/ },
    { what: 'arange with step 0', call: () => T.arange(0, 5, 0), message: /^arange: step must be a non-zero finite number, got 0/ },
    { what: 'linspace with a negative count', call: () => T.linspace(0, 1, -2), message: /^linspace: count must be a non-negative integer, got -2/ },
    { what: 'eye with a negative size', call: () => T.eye(-1), message: /^eye: invalid shape \[-1, -1\]/ },
    { what: 'an unknown device', call: () => tensor([1], { device: 'tpu' }), message: /^unknown device "tpu": registered devices are cpu/ },
    { what: 'setDefaultDevice to an unknown device', call: () => T.setDefaultDevice('tpu'), message: /^unknown device "tpu"/ },
    { what: 'item of a tensor with 6 elements', inputs: () => [f([2, 3])], call: (x) => x!.item(), message: /^item: tensor has 6 elements, expected 1 \(shape \[2, 3\]\)/ },
  ],
  'slice, pad, concat, split': [
    { what: 'slice index past the end', inputs: () => [f([3, 2])], call: (x) => T.slice(x!, [3]), message: /^slice: index 3 is out of range for axis 0 of size 3/ },
    { what: 'slice negative index before the start', inputs: () => [f([3, 2])], call: (x) => T.slice(x!, [null, -3]), message: /^slice: index -3 is out of range for axis 1 of size 2/ },
    { what: 'slice with more ranges than axes', inputs: () => [f([3, 2])], call: (x) => T.slice(x!, [null, null, null]), message: /^slice: 3 ranges given for a tensor of rank 2/ },
    { what: 'primitive slice with begin after end', inputs: () => [f([3, 2])], call: (x) => runOp('slice', [x!], { begin: [2, 0], end: [1, 2] }), message: /^slice: range \[2, 1\) is invalid for axis 0 of size 3 in \[3, 2\]/ },
    { what: 'primitive slice past the end', inputs: () => [f([3, 2])], call: (x) => runOp('slice', [x!], { begin: [0, 0], end: [3, 4] }), message: /^slice: range \[0, 4\) is invalid for axis 1 of size 2/ },
    { what: 'pad with too few pairs', inputs: () => [f([2, 2])], call: (x) => T.pad(x!, [[1, 1]]), message: /^pad: need one \[before, after\] pair per axis of \[2, 2\], got 1/ },
    { what: 'pad with a negative amount', inputs: () => [f([2])], call: (x) => T.pad(x!, [[-1, 0]]), message: /^pad: padding \[-1, 0\] for axis 0 must be non-negative integers/ },
    { what: 'concat of shapes that differ outside the axis', inputs: () => [f([2, 3]), f([2, 4])], call: (x, y) => T.concat([x!, y!], 0), message: /^concat: shapes \[2, 3\], \[2, 4\] differ outside axis 0/ },
    { what: 'concat of different ranks', inputs: () => [f([2, 3]), f([3])], call: (x, y) => T.concat([x!, y!], 1), message: /^concat: shapes \[2, 3\], \[3\] differ outside axis 1/ },
    { what: 'concat of nothing', call: () => T.concat([]), message: /^concat: needs at least one tensor/ },
    { what: 'stack of different shapes', inputs: () => [f([2]), f([3])], call: (x, y) => T.stack([x!, y!]), message: /^stack: shapes differ: \[2\], \[3\]/ },
    { what: 'split into sections that do not divide', inputs: () => [f([5])], call: (x) => T.split(x!, 2), message: /^split: axis 0 of size 5 cannot be split into 2 equal parts/ },
    { what: 'split sizes that do not sum to the axis', inputs: () => [f([5, 2])], call: (x) => T.split(x!, [2, 2]), message: /^split: sizes \[2, 2\] must be non-negative and sum to 5 \(axis 0\)/ },
  ],
  'gather and scatter': [
    { what: 'gather index out of range', inputs: () => [f([2, 4]), tensor([[0, 5]], { dtype: 'int32' })], call: (x, y) => T.gather(x!, 1, y!), message: /^gather: index 5 is out of range for axis 1 of size 4 in \[2, 4\]/ },
    { what: 'gather index of another rank', inputs: () => [f([2, 4]), i([2])], call: (x, y) => T.gather(x!, 1, y!), message: /^gather: index \[2\] does not fit input \[2, 4\] along axis 1/ },
    { what: 'gather index larger than the input off-axis', inputs: () => [f([2, 4]), i([3, 1])], call: (x, y) => T.gather(x!, 1, y!), message: /^gather: index \[3, 1\] does not fit input \[2, 4\]/ },
    { what: 'scatterAdd index and src shapes differ', inputs: () => [f([3, 2]), i([2, 2]), f([2, 1])], call: (x, y, z) => T.scatterAdd(x!, 0, y!, z!), message: /^scatterAdd: index \[2, 2\] and src \[2, 1\] must match and fit input \[3, 2\]/ },
    { what: 'scatterAdd index out of range', inputs: () => [f([3]), tensor([7], { dtype: 'int32' }), f([1])], call: (x, y, z) => T.scatterAdd(x!, 0, y!, z!), message: /^scatterAdd: index 7 is out of range for axis 0 of size 3/ },
    { what: 'indexSelect with 2-D indices', inputs: () => [f([3, 2]), i([2, 1])], call: (x, y) => T.indexSelect(x!, 0, y!), message: /^indexSelect: indices must be 1-D, got \[2, 1\]/ },
    { what: 'oneHot with zero classes', inputs: () => [i([3])], call: (x) => T.oneHot(x!, 0), message: /^oneHot: numClasses must be a positive integer, got 0/ },
  ],
  'nn functions': [
    { what: 'conv2d channel mismatch', inputs: () => [f([1, 3, 5, 5]), f([4, 2, 3, 3])], call: (x, w) => T.conv2d(x!, w!), message: /^conv2d: input has 3 channels but filter \[4, 2, 3, 3\] expects 2/ },
    { what: 'conv2d input of rank 3', inputs: () => [f([3, 5, 5]), f([4, 3, 3, 3])], call: (x, w) => T.conv2d(x!, w!), message: /^conv2d: input \(NCHW\) must have rank 4, got shape \[3, 5, 5\]/ },
    { what: 'conv2d filter larger than the input', inputs: () => [f([1, 1, 2, 2]), f([1, 1, 3, 3])], call: (x, w) => T.conv2d(x!, w!), message: /^conv2d: filter \[1, 1, 3, 3\] is larger than padded input \[1, 1, 2, 2\]/ },
    { what: 'conv2d stride 0', inputs: () => [f([1, 1, 4, 4]), f([1, 1, 3, 3])], call: (x, w) => T.conv2d(x!, w!, null, { stride: 0 }), message: /^conv2d: stride must be two integers >= 1, got \[0, 0\]/ },
    { what: 'conv2d negative padding', inputs: () => [f([1, 1, 4, 4]), f([1, 1, 3, 3])], call: (x, w) => T.conv2d(x!, w!, null, { padding: [-1, 0] }), message: /^conv2d: padding must be two integers >= 0, got \[-1, 0\]/ },
    { what: 'conv2d bias of the wrong size', inputs: () => [f([1, 2, 4, 4]), f([3, 2, 3, 3]), f([4])], call: (x, w, bias) => T.conv2d(x!, w!, bias!), message: /^conv2d: bias has shape \[4\], expected \[3\]/ },
    { what: 'avgPool2d padding more than half the kernel', inputs: () => [f([1, 1, 4, 4])], call: (x) => T.avgPool2d(x!, 2, { padding: 2 }), message: /^avgPool2d: padding \[2,2\] must be at most half of kernel \[2,2\]/ },
    { what: 'avgPool2d kernel larger than the input', inputs: () => [f([1, 1, 2, 2])], call: (x) => T.avgPool2d(x!, 3), message: /^avgPool2d: kernel \[3,3\] is larger than padded input \[1, 1, 2, 2\]/ },
    { what: 'globalAvgPool2d of rank 3', inputs: () => [f([2, 3, 4])], call: (x) => T.globalAvgPool2d(x!), message: /^globalAvgPool2d: input must be NCHW, got \[2, 3, 4\]/ },
    { what: 'layerNorm weight of the wrong size', inputs: () => [f([2, 4]), f([3])], call: (x, w) => T.layerNorm(x!, w!), message: /^layerNorm: weight has shape \[3\], expected \[4\] for input \[2, 4\]/ },
    { what: 'layerNorm of a 0-d tensor', inputs: () => [f([])], call: (x) => T.layerNorm(x!), message: /^layerNorm: input must have at least one axis/ },
    { what: 'layerNorm with eps 0', inputs: () => [f([2, 4])], call: (x) => T.layerNorm(x!, null, null, 0), message: /^layerNorm: eps must be positive, got 0/ },
    { what: 'layerNormBackward of mismatched shapes', inputs: () => [f([2, 4]), f([2, 3])], call: (g, x) => runOp('layerNormBackward', [g!, x!], { eps: 1e-5 }), message: /^layerNormBackward: gradient \[2, 4\] and input \[2, 3\] must have the same shape/ },
    { what: 'lerpSquare of int32', inputs: () => [f([3]), i([3])], call: (a, x) => T.lerpSquare(a!, x!, 0.1), message: /^lerpSquare: input 1 has dtype int32, expected float32/ },
    { what: 'adamStep with a moment of another shape', inputs: () => [f([2, 3]), f([3, 2]), f([2, 3])], call: (p, m, v) => T.adamStep(p!, m!, v!, 1, 0.1, 1e-8), message: /^adamStep: shapes \[2, 3\] and \[3, 2\]/ },
    { what: 'lerp of numbers only', call: () => T.lerp(1, 2, 0.5), message: /^lerp: at least one operand must be a tensor/ },
    { what: 'nllLoss of rank-3 input', inputs: () => [f([2, 3, 4]), i([2])], call: (x, y) => T.nllLoss(x!, y!), message: /^nllLoss: expected log-probabilities \[N, C\], got \[2, 3, 4\]/ },
    { what: 'crossEntropy labels of the wrong length', inputs: () => [f([2, 3]), i([3])], call: (x, y) => T.crossEntropy(x!, y!), message: /^nllLoss: labels \[3\] do not match log-probabilities \[2, 3\]/ },
    { what: 'mse of different shapes', inputs: () => [f([2, 3]), f([3, 2])], call: (x, y) => T.mse(x!, y!), message: /^mse: prediction \[2, 3\] and target \[3, 2\] differ in shape/ },
    { what: 'dropout with p = 1', inputs: () => [f([3])], call: (x) => T.dropout(x!, 1), message: /^dropout: p must be in \[0, 1\), got 1/ },
    { what: 'dropout with p = NaN', inputs: () => [f([3])], call: (x) => T.dropout(x!, NaN), message: /^dropout: p must be in \[0, 1\), got NaN/ },
  ],
  'other arguments': [
    { what: 'clamp with min above max', inputs: () => [f([3])], call: (x) => T.clamp(x!, 2, 1), message: /^clamp: min 2 is greater than max 1/ },
    { what: 'clamp with no bound', inputs: () => [f([3])], call: (x) => T.clamp(x!), message: /^clamp: give min, max or both/ },
    { what: 'add of two numbers', call: () => T.add(1, 2), message: /^add: at least one operand must be a tensor/ },
    { what: 'where with two number branches', inputs: () => [b([2])], call: (c) => T.where(c!, 1, 2), message: /^where: at least one branch must be a tensor/ },
  ],
  seeds: [
    { what: 'negative seed', call: () => T.rand([2], { seed: -1 }), message: /^random: seed must be a non-negative safe integer, got -1/ },
    { what: 'fractional seed', call: () => T.randn([2], { seed: 1.5 }), message: /^random: seed must be a non-negative safe integer, got 1\.5/ },
    { what: 'seed beyond 2^53', call: () => T.rand([2], { seed: 2 ** 53 }), message: /^random: seed must be a non-negative safe integer, got 9007199254740992/ },
    { what: 'NaN seed', call: () => new T.Generator(NaN), message: /^random: seed must be a non-negative safe integer, got NaN/ },
    { what: 'manualSeed with a negative seed', call: () => T.manualSeed(-5), message: /^random: seed must be a non-negative safe integer, got -5/ },
    { what: 'seed and generator together', call: () => T.rand([2], { seed: 1, generator: new T.Generator(1) }), message: /^random: give either seed or generator, not both/ },
    { what: 'rand with a negative shape', call: () => T.rand([-2]), message: /^rand: invalid shape \[-2\]/ },
    { what: 'randint with low >= high', call: () => T.randint(3, 3, [2]), message: /^randint: need integers low < high, got \[3, 3\)/ },
    { what: 'randint with a fractional bound', call: () => T.randint(0, 2.5, [2]), message: /^randint: need integers low < high, got \[0, 2\.5\)/ },
    { what: 'randint with a range over 2^24', call: () => T.randint(0, 2 ** 24 + 1, [2]), message: /^randint: range 16777217 exceeds 2\^24/ },
    { what: 'random key words out of range', call: () => runOp('randomUniform', [], { shape: [2], key: [2 ** 32, 0], offset: 0 }), message: /^randomUniform: key words must be uint32, got \[4294967296, 0\]/ },
  ],
};

describe.each(Object.entries(GROUPS))('%s', (_group, cases) => {
  it.each(cases.map((c) => [c.what, c] as const))('%s', (_what, c) => {
    const inputs = c.inputs?.() ?? [];
    const before = memory().tensors;
    expect(() => c.call(...inputs)).toThrow(c.message);
    // A failed call leaves nothing behind.
    expect(memory().tensors).toBe(before);
    for (const t of inputs) t.dispose();
  });
});

describe('autograd misuse', () => {
  it('backward() on a non-scalar without a gradient names the shape', () => {
    const x = requiringGrad(T.ones([3]));
    const y = T.mul(x, 2);
    expect(() => y.backward()).toThrow(/^backward: the output has shape \[3\]; pass a gradient of that shape for non-scalar outputs/);
    for (const t of [x, y]) t.dispose();
  });

  it('backward() with a gradient of the wrong shape', () => {
    const x = requiringGrad(T.ones([3]));
    const y = T.mul(x, 2);
    const g = T.ones([2]);
    expect(() => y.backward(g)).toThrow(/^backward: gradient shape \[2\] does not match output shape \[3\]/);
    for (const t of [x, y, g]) t.dispose();
  });

  it('backward() on a tensor that does not require grad', () => {
    const x = T.ones([1]);
    expect(() => x.backward()).toThrow(/^backward: this tensor does not require grad/);
    x.dispose();
  });

  it('a second backward() without retainGraph names the freed op and the fix', () => {
    const x = requiringGrad(T.ones([3]));
    const y = T.tidy(() => T.sum(T.exp(x)));
    y.backward();
    const before = memory().tensors;
    expect(() => y.backward()).toThrow(/^backward: the graph through op "\w+" was already freed by an earlier backward\(\); pass \{ retainGraph: true \}/);
    expect(memory().tensors).toBe(before);
    for (const t of [x, y]) t.dispose();
  });

  it('an op without a gradient rule refuses inputs that require grad', () => {
    const dy = requiringGrad(T.ones([1, 1, 2, 2]));
    expect(() => runOp('avgPool2dBackprop', [dy], { kernel: [2, 2], stride: [2, 2], padding: [0, 0], inputShape: [1, 1, 4, 4] })).toThrow(
      /^avgPool2dBackprop: has no gradient rule, so it cannot be used on tensors that require grad/,
    );
    dy.dispose();
  });

  it('the optimizer kernels refuse inputs that require grad', () => {
    const p = requiringGrad(T.ones([3]));
    const m = T.zeros([3]);
    expect(() => T.adamStep(p, m, m, 1, 0.1, 1e-8)).toThrow(/^adamStep: has no gradient rule, so it cannot be used on tensors that require grad/);
    const scalars = { momentWeight: 0.1, varianceWeight: 0.001, decay: 1, alpha: 0.1, eps: 1e-8 };
    expect(() => T.adamUpdate(p, m, m, m, scalars)).toThrow(/^adamUpdate: has no gradient rule, so it cannot be used on tensors that require grad/);
    const long = T.zeros([4]);
    expect(() => T.adamUpdate(m, m, long, m, scalars)).toThrow('adamUpdate: param, grad, expAvg and expAvgSq must have one shape, got [3], [3], [4], [3]');
    expect(() => T.adamUpdate(m, m, m, m, { ...scalars, alpha: Number.NaN })).toThrow('adamUpdate: alpha must be a finite number, got NaN');
    for (const t of [p, m, long]) t.dispose();
  });

  it('valueAndGrad of a non-scalar function', () => {
    const x = T.ones([3]);
    const before = memory().tensors;
    expect(() => T.valueAndGrad((t: Tensor) => T.mul(t, 2))(x)).toThrow(/^valueAndGrad: the function must return a scalar, got shape \[3\]/);
    expect(memory().tensors).toBe(before);
    x.dispose();
  });
});
