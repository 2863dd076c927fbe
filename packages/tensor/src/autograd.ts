// Reverse-mode autodiff over the tape that runOp records (engine.ts). backward()
// visits nodes in reverse topological order, asks gradients.ts for each op's
// input gradients, reduces broadcast gradients to the input's shape and
// accumulates: into the next node's gradient, or into `.grad` of a leaf.

import { onesLike, zerosLike } from './creation.js';
import { noGrad, runOp } from './engine.js';
import { GRADIENTS, type GradContext } from './gradients.js';
import { add } from './ops-math.js';
import { keep, tidy } from './scopes.js';
import { shapeToString, sameShape } from './shape.js';
import type { OpName } from './ops.js';
import type { Node, Tensor } from './tensor.js';

/** Sums a gradient of a broadcast result back to the shape of the input it flows to. */
export function unbroadcast(grad: Tensor, shape: readonly number[]): Tensor {
  if (sameShape(grad.shape, shape)) return grad;
  const lead = grad.rank - shape.length;
  const axes: number[] = [];
  // Axes of size 1 need no sum (only the reshape below): a [1, N] bias gradient becomes [N]
  // as a view, not through a reduction kernel that copies it.
  for (let i = 0; i < grad.rank; i++) {
    if (grad.shape[i] !== 1 && (i < lead || shape[i - lead] === 1)) axes.push(i);
  }
  const summed = axes.length > 0 ? runOp('sum', [grad], { axes }) : grad;
  return runOp('reshape', [summed], { shape });
}

function topologicalOrder(root: Node): Node[] {
  const order: Node[] = [];
  const visited = new Set<Node>();
  // Iterative post-order DFS: deep graphs (long training unrolls) must not hit the call-stack limit.
  const stack: [Node, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    const [node, next] = top;
    if (next < node.inputs.length) {
      top[1]++;
      const child = node.inputs[next]!.node;
      if (child && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      order.push(node);
      stack.pop();
    }
  }
  return order;
}

function accumulateLeaf(leaf: Tensor, grad: Tensor): void {
  if (leaf.isDisposed) return;
  const previous = leaf.grad;
  leaf.grad = keep(previous ? add(previous, grad) : grad.detach());
  previous?.dispose();
}

export function backward(root: Tensor, grad?: Tensor, options: { retainGraph?: boolean } = {}): void {
  root.assertAlive('backward');
  if (!root.requiresGrad) {
    throw new Error('backward: this tensor does not require grad (no input of its computation had requiresGrad = true)');
  }
  if (grad === undefined && root.size !== 1) {
    throw new Error(`backward: the output has shape ${shapeToString(root.shape)}; pass a gradient of that shape for non-scalar outputs`);
  }
  if (grad && !sameShape(grad.shape, root.shape)) {
    throw new Error(`backward: gradient shape ${shapeToString(grad.shape)} does not match output shape ${shapeToString(root.shape)}`);
  }
  noGrad(() =>
    tidy(() => {
      const seed = grad ?? onesLike(root);
      if (!root.node) {
        accumulateLeaf(root, seed);
        return;
      }
      if (root.node.freed) throw graphFreedError(root.node);
      const order = topologicalOrder(root.node);
      const grads = new Map<Node, Tensor>([[root.node, seed]]);
      for (let i = order.length - 1; i >= 0; i--) {
        const node = order[i]!;
        const g = grads.get(node);
        if (!g) continue;
        grads.delete(node);
        if (node.freed) throw graphFreedError(node);
        // Like PyTorch, a gradient lives only until its node has used it: the rule's
        // temporaries are freed by the inner tidy, and g right after, so backward's
        // peak memory is the saved tensors plus the gradients in flight, not all of them.
        const inputGrads = tidy(() => inputGradients(node, g));
        node.inputs.forEach((input, k) => {
          const reduced = inputGrads[k];
          if (!reduced) return;
          if (!input.node) {
            accumulateLeaf(input, reduced);
            reduced.dispose();
            return;
          }
          const previous = grads.get(input.node);
          if (previous) {
            grads.set(input.node, add(previous, reduced));
            previous.dispose();
            reduced.dispose();
          } else {
            grads.set(input.node, reduced);
          }
        });
        if (g !== grad) g.dispose();
        if (!options.retainGraph) node.free();
      }
    }),
  );
}

/**
 * The gradients of `node`'s inputs given the gradient `g` of its output, each reduced to
 * its input's shape (null where no gradient is needed). Every result is a fresh handle,
 * so the caller may dispose it (and g) independently even when a rule passes g through.
 */
function inputGradients(node: Node, g: Tensor): (Tensor | null)[] {
  // The rule's view of what its op saved; GradContext types it per op from SAVED_FOR_BACKWARD.
  const context = {
    inputs: node.savedInputs,
    output: node.savedOutput,
    metas: node.metas,
    attrs: node.attrs,
    needs: node.inputs.map((t) => t.requiresGrad),
  };
  const rule = GRADIENTS[node.op] as (g: Tensor, c: GradContext<OpName>) => (Tensor | null)[];
  const inputGrads = rule(g, context as unknown as GradContext<OpName>);
  return node.inputs.map((_, k) => {
    const ig = inputGrads[k];
    if (!context.needs[k] || !ig) return null;
    return unbroadcast(ig, node.metas[k]!.shape).detach();
  });
}

function graphFreedError(node: Node): Error {
  return new Error(
    `backward: the graph through op "${node.op}" was already freed by an earlier backward(); pass { retainGraph: true } to the first call to backward twice`,
  );
}

/**
 * Turns a scalar function of tensors into one returning its value and the gradients
 * with respect to every argument (like jax.value_and_grad over all arguments).
 * The arguments' own `.grad` fields are not touched.
 */
export function valueAndGrad<A extends Tensor[]>(fn: (...args: A) => Tensor): (...args: A) => { value: Tensor; grads: Tensor[] } {
  return (...args: A) => {
    const watched = args.map((a) => {
      const w = a.detach();
      w.requiresGrad = true;
      return w;
    }) as unknown as A;
    let output: Tensor | undefined;
    try {
      output = fn(...watched);
      if (output.size !== 1) throw new Error(`valueAndGrad: the function must return a scalar, got shape ${shapeToString(output.shape)}`);
      if (output.requiresGrad) output.backward();
    } catch (error) {
      // The output too: alive, it would keep its graph's saved tensors alive.
      output?.dispose();
      for (const w of watched) w.dispose();
      throw error;
    }
    const grads = watched.map((w) => {
      const g = w.grad ?? zerosLike(w);
      w.grad = null;
      w.dispose();
      return g;
    });
    const value = output.detach();
    output.dispose();
    return { value, grads };
  };
}
