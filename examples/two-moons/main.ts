// The foundation demo: a two-layer MLP fitted to the two-moons data set with plain
// gradient steps, using only @gpt/tensor (tensors, autograd, seeded RNG, tidy).
// Run from the repository root: `npx pnpm@12.4.2 demo` (options: --steps N --seed S).

import { crossEntropy, Generator, keep, memory, noGrad, rand, randn, tensor, tidy, type Tensor } from '@gpt/tensor';

function option(name: string, fallback: number): number {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const steps = option('--steps', 500);
const seed = option('--seed', 0);
const generator = new Generator(seed);

/** Two interleaved half circles with Gaussian noise: [N, 2] points and int32 labels. */
function twoMoons(n: number, noise: number): { x: Tensor; y: Tensor } {
  const angles = rand([n], { generator, high: Math.PI }).dataSync();
  const jitter = randn([n, 2], { generator, std: noise }).dataSync();
  const points: number[] = [];
  const labels: number[] = [];
  for (let i = 0; i < n; i++) {
    const upper = i % 2 === 0;
    const a = angles[i]!;
    const px = upper ? Math.cos(a) : 1 - Math.cos(a);
    const py = upper ? Math.sin(a) : 0.5 - Math.sin(a);
    points.push(px + jitter[2 * i]!, py + jitter[2 * i + 1]!);
    labels.push(upper ? 0 : 1);
  }
  return { x: tensor(points, { shape: [n, 2] }), y: tensor(labels, { dtype: 'int32' }) };
}

/** A leaf parameter, uniform in [-bound, bound] like PyTorch's default Linear init. */
function parameter(shape: number[], fanIn: number): Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  const p = keep(rand(shape, { generator, low: -bound, high: bound }));
  p.requiresGrad = true;
  return p;
}

const hidden = 32;
const params = {
  w1: parameter([2, hidden], 2),
  b1: parameter([hidden], 2),
  w2: parameter([hidden, 2], hidden),
  b2: parameter([2], hidden),
};

function logits(x: Tensor): Tensor {
  const h = x.matmul(params.w1).add(params.b1).tanh(); // [N, hidden]
  return h.matmul(params.w2).add(params.b2); // [N, 2]
}

const train = twoMoons(512, 0.1);
const test = twoMoons(512, 0.1);
const learningRate = 0.5;

console.log(`two-moons: MLP 2 -> ${hidden} (tanh) -> 2, ${steps} full-batch gradient steps, lr ${learningRate}, seed ${seed}`);
const start = performance.now();
for (let step = 0; step <= steps; step++) {
  const loss = tidy(() => crossEntropy(logits(train.x), train.y));
  if (step % 50 === 0) console.log(`step ${String(step).padStart(4)}  loss ${loss.item().toFixed(4)}`);
  if (step === steps) {
    loss.dispose();
    break;
  }
  loss.backward();
  loss.dispose();
  // Plain gradient step; tidy frees the temporaries, assign keeps each parameter's handle.
  tidy(() =>
    noGrad(() => {
      for (const p of Object.values(params)) {
        p.assign(p.sub(p.grad!.mul(learningRate)));
        p.grad!.dispose();
        p.grad = null;
      }
    }),
  );
}
const seconds = (performance.now() - start) / 1000;

const accuracy = tidy(() => {
  const predicted = logits(test.x).argmax(-1);
  return predicted.equal(test.y).astype('float32').mean().item();
});
console.log(`test accuracy ${(accuracy * 100).toFixed(1)}% on 512 held-out points; ${seconds.toFixed(2)} s; live tensors ${memory().tensors}`);
