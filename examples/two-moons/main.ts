// The smallest training loop: a two-layer MLP fitted to the two-moons data set with plain
// gradient steps, using only @gpt/tensor (tensors, autograd, seeded RNG, tidy).
// Run from the repository root: `npx pnpm@12.4.2 example two-moons`
// (options: --steps N --seed S, --help lists them).

import { pathToFileURL } from 'node:url';
import { defineCli, describeRuntime, runCli, type CliValues } from '@gpt/g-pt/cli';
import { crossEntropy, Generator, keep, memory, noGrad, rand, tensor, tidy, type Tensor } from '@gpt/tensor';

export const cli = defineCli({
  name: 'pnpm example two-moons',
  summary: 'A 2 -> 32 (tanh) -> 2 MLP fitted to two moons with full-batch gradient steps (@gpt/tensor only).',
  options: {
    steps: { type: 'integer', default: 500, min: 0, description: 'full-batch gradient steps' },
    seed: { type: 'integer', default: 0, min: 0, description: 'seed of the data and the initialization' },
  },
});

/** Two interleaved half circles with Gaussian noise: [N, 2] points and int32 labels. */
function twoMoons(generator: Generator, n: number, noise: number): { x: Tensor; y: Tensor } {
  // Host draws: the points are built in JS, so no tensor is made just to be read back.
  const angles = generator.uniform(n).map((u) => u * Math.PI);
  const jitter = generator.normal(2 * n).map((z) => z * noise); // [N, 2]
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
function parameter(generator: Generator, shape: number[], fanIn: number): Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  const p = keep(rand(shape, { generator, low: -bound, high: bound }));
  p.requiresGrad = true;
  return p;
}

const hidden = 32;
const learningRate = 0.5;

export async function main(options: CliValues<typeof cli.options>): Promise<void> {
  const { steps, seed } = options;
  const generator = new Generator(seed);
  // Parameters first, then the data: the seeded draws come in this order.
  const params = {
    w1: parameter(generator, [2, hidden], 2),
    b1: parameter(generator, [hidden], 2),
    w2: parameter(generator, [hidden, 2], hidden),
    b2: parameter(generator, [2], hidden),
  };
  const logits = (x: Tensor): Tensor => {
    const h = x.matmul(params.w1).add(params.b1).tanh(); // [N, hidden]
    return h.matmul(params.w2).add(params.b2); // [N, 2]
  };
  const train = twoMoons(generator, 512, 0.1);
  const test = twoMoons(generator, 512, 0.1);

  console.log(`two-moons: MLP 2 -> ${hidden} (tanh) -> 2, ${steps} full-batch gradient steps, lr ${learningRate}, seed ${seed}`);
  console.log(describeRuntime());
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
  for (const t of [...Object.values(params), train.x, train.y, test.x, test.y]) t.dispose();
  console.log(`test accuracy ${(accuracy * 100).toFixed(1)}% on 512 held-out points; ${seconds.toFixed(2)} s; live tensors ${memory().tensors}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runCli(cli, main);
