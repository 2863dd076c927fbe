// Fuzz target: CIFAR-10 binary batches, read by @gpt/nn's loadCifar10. Seeds are written
// here: test splits of 3 records and of 1 record (batches may hold fewer records than the
// archive's 10,000). Format-aware mutators set labels out of range, cut or add partial
// records, and grow a batch past 10,000 records (a 30 MB file, refused from its size).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadCifar10 } from '../../packages/nn/src/data-node.js';
import { type FuzzSeed, type FuzzTarget, pick } from '../harness.js';
import type { Mutator, Rng } from '../mutators.js';

const RECORD = 3073;

function batch(labels: readonly number[]): Uint8Array {
  const out = new Uint8Array(labels.length * RECORD);
  labels.forEach((label, r) => {
    out[r * RECORD] = label;
    for (let p = 1; p < RECORD; p++) out[r * RECORD + p] = (p * 31 + r * 7) & 0xff;
  });
  return out;
}

const CIFAR_MUTATORS: Record<string, Mutator> = {
  /** A record's label byte set to 10, 255 or another valid digit. */
  label: (bytes, rng) => {
    const out = new Uint8Array(bytes);
    const records = Math.floor(out.length / RECORD);
    if (records > 0) out[Math.floor(rng() * records) * RECORD] = pick(rng, [10, 11, 128, 255, 0, 9]);
    return out;
  },
  /** Records added or removed, whole or partial, up to just past the 10,000-record limit. */
  recordCount: (bytes, rng) => {
    const size = pick(rng, [bytes.length + 1, bytes.length - 1, bytes.length + RECORD, RECORD - 1, 10000 * RECORD, 10001 * RECORD]);
    const out = new Uint8Array(Math.max(0, size));
    for (let at = 0; at < out.length; at += bytes.length || out.length) out.set(bytes.subarray(0, Math.min(bytes.length, out.length - at)), at);
    return out;
  },
};

export const target: FuzzTarget = {
  name: 'cifar',
  async seeds(dir: string): Promise<FuzzSeed[]> {
    const seeds: FuzzSeed[] = [];
    for (const [name, labels] of [['three', [3, 9, 0]], ['one', [7]]] as const) {
      const path = join(dir, name);
      await mkdir(path);
      await writeFile(join(path, 'test_batch.bin'), batch(labels));
      seeds.push({ path, mutate: join(path, 'test_batch.bin') });
    }
    return seeds;
  },
  async read(path: string): Promise<void> {
    const { pixels, labels } = await loadCifar10(path, 'test');
    let sum = 0;
    for (let i = 0; i < pixels.length; i++) sum += pixels[i]!;
    for (let i = 0; i < labels.length; i++) sum += labels[i]!;
    if (!(sum >= 0)) throw new Error('unreachable');
  },
  // The generic mutators on a copy of the seed (see dataset-fixture.ts: Buffer#slice is a view), beside this format's own.
  mutators: CIFAR_MUTATORS,
  genericMutators: false,
  // A full 10,000-record batch (30 MB, valid) takes about 0.1 s to read and check, but
  // seconds on a loaded 2-core machine: not a hang.
  timeoutMs: 10_000,
};
