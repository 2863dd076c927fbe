// Which timesteps of the original process a respaced (faster) sampler keeps.

/**
 * The timesteps to keep from a `numTimesteps`-step process, ascending.
 *
 * `sectionCounts` splits the process into equal sections and takes that many evenly strided
 * steps from each: with 300 steps and [10, 15, 20], the first 100 steps are strided down to
 * 10, the next 100 to 15 and the last 100 to 20. A comma-separated string ("10,15,20") works
 * too. "ddimN" uses DDIM's fixed integer stride instead: the N steps 0, s, 2s, ... for the
 * one stride s that gives exactly N. Fractional strides round half to even and accumulate
 * in floating point, exactly like guided-diffusion's space_timesteps (so the same spec gives
 * the same timesteps, and checkpoints sample identically).
 */
export function spaceTimesteps(numTimesteps: number, sectionCounts: string | readonly number[]): number[] {
  if (!Number.isInteger(numTimesteps) || numTimesteps < 1) {
    throw new Error(`spaceTimesteps: numTimesteps must be a positive integer, got ${numTimesteps}`);
  }
  if (typeof sectionCounts === 'string' && sectionCounts.startsWith('ddim')) {
    return ddimTimesteps(numTimesteps, sectionCounts);
  }
  const counts = typeof sectionCounts === 'string' ? parseSections(sectionCounts) : [...sectionCounts];
  if (counts.length === 0) throw new Error('spaceTimesteps: give at least one section count');
  counts.forEach((count, i) => {
    if (!Number.isInteger(count) || count < 1) throw new Error(`spaceTimesteps: section ${i} count must be a positive integer, got ${count}`);
  });
  const sizePer = Math.floor(numTimesteps / counts.length);
  const extra = numTimesteps % counts.length;
  const steps = new Set<number>();
  let start = 0;
  counts.forEach((count, i) => {
    const size = sizePer + (i < extra ? 1 : 0);
    if (size < count) throw new Error(`spaceTimesteps: cannot divide section ${i} of ${size} steps into ${count}`);
    const stride = count <= 1 ? 1 : (size - 1) / (count - 1);
    let position = 0;
    for (let k = 0; k < count; k++) {
      steps.add(start + roundHalfToEven(position));
      position += stride;
    }
    start += size;
  });
  return [...steps].sort((a, b) => a - b);
}

function ddimTimesteps(numTimesteps: number, spec: string): number[] {
  const text = spec.slice('ddim'.length);
  const desired = Number(text);
  if (!/^\d+$/.test(text) || desired < 1) throw new Error(`spaceTimesteps: "${spec}" is not "ddimN" with a positive integer N`);
  for (let stride = 1; stride < Math.max(numTimesteps, 2); stride++) {
    if (Math.ceil(numTimesteps / stride) === desired) {
      return Array.from({ length: desired }, (_, i) => i * stride);
    }
  }
  throw new Error(`spaceTimesteps: cannot take exactly ${desired} steps from ${numTimesteps} with an integer stride`);
}

function parseSections(text: string): number[] {
  return text.split(',').map((part, i) => {
    const trimmed = part.trim();
    if (!/^\d+$/.test(trimmed)) throw new Error(`spaceTimesteps: section ${i} of "${text}" is not a positive integer`);
    return Number(trimmed);
  });
}

/** Python 3's round(): ties go to the even neighbour. */
function roundHalfToEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
