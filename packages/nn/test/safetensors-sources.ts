// The module and optimizer state behind the committed fixtures
// test/fixtures/ts-module.safetensors and ts-optimizer.safetensors: every value is a
// formula that scripts/fixtures/safetensors_fixtures.py computes too, so Python's
// `safetensors` can check that it reads what we write. The test suite checks that
// our writer still produces those bytes exactly. Regenerate (then re-run the Python
// script, which verifies them) with:
//
//   node --conditions=@gpt/source --import tsx packages/nn/test/safetensors-sources.ts

import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { tensor, tidy, type Tensor } from '@gpt/tensor';
import { AdamW, buffer, LayerNorm, Linear, Module, saveOptimizerState, saveStateDict } from '../src/index.js';

/** Twin of the Python script's Tiny: an int buffer, then a Linear and a LayerNorm (state-dict order). */
export class Tiny extends Module {
  steps: Tensor = buffer(tensor([7], { dtype: 'int32' }));
  fc = new Linear(4, 3, { seed: 0 });
  norm = new LayerNorm(3);
  forward(x: Tensor): Tensor {
    return tidy(() => this.norm.forward(this.fc.forward(x)));
  }
}

/** Element i of the k-th float tensor: multiples of 1/8, exact in every float type. */
export function pattern(size: number, k: number): Float32Array {
  return Float32Array.from({ length: size }, (_, i) => (((i * 5 + k * 3) % 13) - 6) / 8);
}

/** A Tiny whose float tensors hold pattern(size, k) for the k-th of them, and steps = 7. */
export function patternTiny(): Tiny {
  const net = new Tiny();
  const floats = net.stateShapes().filter(([key]) => key !== 'steps');
  net.loadStateDict(Object.fromEntries(floats.map(([key, shape], k) => [key, pattern(shape.reduce((a, b) => a * b, 1), k)])), { strict: false });
  return net;
}

/**
 * AdamW (lr 0.01, weight decay 0.1) over a patternTiny's parameters, with state for
 * each as after two steps: expAvg = pattern(size, 10 + p), expAvgSq = |pattern(size, 20 + p)|.
 */
export function patternAdamW(net: Tiny): AdamW {
  const opt = new AdamW(net.parameters(), { lr: 0.01, weightDecay: 0.1 });
  const state = Object.fromEntries(
    net.parameters().map((p, i) => [i, { step: 2, expAvg: pattern(p.size, 10 + i), expAvgSq: pattern(p.size, 20 + i).map(Math.abs) }]),
  );
  opt.loadStateDict({ state, paramGroups: opt.stateDict().paramGroups });
  return opt;
}

/** The bytes of both fixtures, as this version of @gpt/nn writes them. */
export async function tsWrittenBytes(): Promise<{ module: Uint8Array; optimizer: Uint8Array }> {
  const net = patternTiny();
  const opt = patternAdamW(net);
  try {
    return { module: await saveStateDict(net), optimizer: await saveOptimizerState(opt) };
  } finally {
    opt.dispose();
    net.dispose();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { module, optimizer } = await tsWrittenBytes();
  for (const [name, bytes] of [['ts-module.safetensors', module], ['ts-optimizer.safetensors', optimizer]] as const) {
    writeFileSync(new URL(`./fixtures/${name}`, import.meta.url), bytes);
    console.log(`wrote packages/nn/test/fixtures/${name} (${bytes.byteLength} bytes)`);
  }
}
