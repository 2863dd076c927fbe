// The data: a mixture of 8 equally weighted Gaussians on a circle, and the mode-coverage
// metrics used to judge samples of it.

import { indexSelect, randint, randn, tensor, tidy, type Generator, type Tensor } from '@gpt/tensor';

export interface EightGaussians {
  /** [8][2] mode centres, on a circle of radius `radius`, starting at angle 0 */
  centres: [number, number][];
  /** std of each mode along each axis */
  std: number;
}

export function eightGaussians(radius = 2, std = 0.1): EightGaussians {
  const centres = Array.from({ length: 8 }, (_, k): [number, number] => {
    const angle = (2 * Math.PI * k) / 8;
    return [radius * Math.cos(angle), radius * Math.sin(angle)];
  });
  return { centres, std };
}

/** `count` points [count, 2]: a uniformly chosen mode plus Gaussian noise. */
export function sampleData(data: EightGaussians, count: number, generator: Generator): Tensor {
  return tidy(() => {
    const modes = randint(0, 8, [count], { generator }); // [N] int32
    const centres = tensor(data.centres.flat(), { shape: [8, 2] }); // [8, 2]
    const chosen = indexSelect(centres, 0, modes); // [N, 2]
    const noise = randn([count, 2], { generator, std: data.std }); // [N, 2]
    return chosen.add(noise); // [N, 2]
  });
}

export interface ModeReport {
  /** fraction of all samples assigned to each mode (nearest centre within 3 std) */
  weights: number[];
  /** modes holding at least a quarter of their expected share (1/32 of the samples) */
  covered: number;
  /** |weight - 1/8| per mode, and its maximum and mean */
  weightErrors: number[];
  maxWeightError: number;
  meanWeightError: number;
  /** fraction of samples farther than 3 std from every centre */
  offMode: number;
  /** root-mean-square distance of assigned samples to their centre, per axis (the data's is `std`) */
  rmsSpread: number;
}

/** Assigns every sample to its nearest centre (if within 3 std) and summarizes. */
export function modeReport(data: EightGaussians, samples: Float32Array | Float64Array): ModeReport {
  const n = samples.length / 2;
  const counts = new Array<number>(8).fill(0);
  let off = 0;
  let squared = 0;
  for (let i = 0; i < n; i++) {
    const x = samples[2 * i]!;
    const y = samples[2 * i + 1]!;
    let best = 0;
    let bestDistance = Infinity;
    data.centres.forEach(([cx, cy], k) => {
      const distance = Math.hypot(x - cx, y - cy);
      if (distance < bestDistance) {
        bestDistance = distance;
        best = k;
      }
    });
    if (bestDistance <= 3 * data.std) {
      counts[best]!++;
      squared += bestDistance ** 2;
    } else {
      off++;
    }
  }
  const weights = counts.map((c) => c / n);
  const weightErrors = weights.map((w) => Math.abs(w - 1 / 8));
  const assigned = n - off;
  return {
    weights,
    covered: counts.filter((c) => c >= n / 32).length,
    weightErrors,
    maxWeightError: Math.max(...weightErrors),
    meanWeightError: weightErrors.reduce((a, b) => a + b, 0) / 8,
    offMode: off / n,
    rmsSpread: assigned > 0 ? Math.sqrt(squared / assigned / 2) : Number.NaN,
  };
}
