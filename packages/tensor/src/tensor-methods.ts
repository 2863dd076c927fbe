// The op methods of Tensor (declared in tensor.ts as TensorMethods): each is a thin
// alias of a function in ops-math.ts, ops-shape.ts or autograd.ts. They live here, above
// those functions, so that tensor.ts and the engine below them import none of them; the
// package entries install them once on Tensor.prototype.

import { backward } from './autograd.js';
import * as M from './ops-math.js';
import * as S from './ops-shape.js';
import { Tensor, type TensorMethods } from './tensor.js';

// Typed by TensorMethods: a declared method without an implementation does not compile.
const methods: TensorMethods & ThisType<Tensor> = {
  backward(grad, options = {}) { backward(this, grad, options); },
  add(other) { return M.add(this, other); },
  sub(other) { return M.sub(this, other); },
  mul(other) { return M.mul(this, other); },
  div(other) { return M.div(this, other); },
  pow(other) { return M.pow(this, other); },
  maximum(other) { return M.maximum(this, other); },
  minimum(other) { return M.minimum(this, other); },
  equal(other) { return M.equal(this, other); },
  notEqual(other) { return M.notEqual(this, other); },
  less(other) { return M.less(this, other); },
  lessEqual(other) { return M.lessEqual(this, other); },
  greater(other) { return M.greater(this, other); },
  greaterEqual(other) { return M.greaterEqual(this, other); },
  neg() { return M.neg(this); },
  exp() { return M.exp(this); },
  log() { return M.log(this); },
  sqrt() { return M.sqrt(this); },
  rsqrt() { return M.rsqrt(this); },
  abs() { return M.abs(this); },
  square() { return M.square(this); },
  sin() { return M.sin(this); },
  cos() { return M.cos(this); },
  tanh() { return M.tanh(this); },
  sigmoid() { return M.sigmoid(this); },
  relu() { return M.relu(this); },
  gelu() { return M.gelu(this); },
  selu() { return M.selu(this); },
  clamp(min, max) { return M.clamp(this, min, max); },
  sum(axes, keepdim = false) { return M.sum(this, axes, keepdim); },
  mean(axes, keepdim = false) { return M.mean(this, axes, keepdim); },
  max(axes, keepdim = false) { return M.max(this, axes, keepdim); },
  min(axes, keepdim = false) { return M.min(this, axes, keepdim); },
  argmax(axis, keepdim = false) { return M.argmax(this, axis, keepdim); },
  argmin(axis, keepdim = false) { return M.argmin(this, axis, keepdim); },
  matmul(other) { return M.matmul(this, other); },
  softmax(axis = -1) { return M.softmax(this, axis); },
  logSoftmax(axis = -1) { return M.logSoftmax(this, axis); },
  astype(dtype) { return M.cast(this, dtype); },
  reshape(shape) { return S.reshape(this, shape); },
  flatten(startAxis = 0, endAxis = -1) { return S.flatten(this, startAxis, endAxis); },
  permute(perm) { return S.permute(this, perm); },
  transpose(axis0 = -2, axis1 = -1) { return S.transpose(this, axis0, axis1); },
  expand(shape) { return S.expand(this, shape); },
  squeeze(axes) { return S.squeeze(this, axes); },
  unsqueeze(axis) { return S.unsqueeze(this, axis); },
  slice(ranges) { return S.slice(this, ranges); },
};

/** Gives every Tensor its op methods; idempotent. Non-enumerable, like methods declared in a class. */
export function installTensorMethods(): void {
  for (const [name, value] of Object.entries(methods)) {
    Object.defineProperty(Tensor.prototype, name, { value, writable: true, configurable: true, enumerable: false });
  }
}
