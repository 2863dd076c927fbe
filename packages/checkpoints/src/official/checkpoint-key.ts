// Official LMDB checkpoint keys: "<run>/ep<EEE>_it<IIIII>.pt" for the SGD tasks (EEE =
// 0-based epoch, IIIII = 1-based step within the epoch, 0 for the initial network) and
// "<run>/it<IIIII>.pt" for Cartpole (PPO iteration). "<key>_arch" holds the tensor
// sizes, "<key>_train_ret" the Cartpole return.

export interface OfficialKey {
  readonly key: string;
  /** The run prefix before "/" (the run directory's name when written). */
  readonly run: string;
  readonly epoch?: number;
  readonly iterationInEpoch?: number;
  /** Absolute optimizer iteration; undefined for SGD keys without iterationsPerEpoch. */
  readonly iteration?: number;
}

const SGD_KEY = /^(?:(.*)\/)?ep(\d+)_it(\d+)\.pt$/;
const RL_KEY = /^(?:(.*)\/)?it(\d+)\.pt$/;

/** Parses a checkpoint key; null when it follows neither pattern. */
export function parseOfficialKey(key: string, iterationsPerEpoch?: number): OfficialKey | null {
  const sgd = SGD_KEY.exec(key);
  if (sgd) {
    const epoch = Number(sgd[2]);
    const iterationInEpoch = Number(sgd[3]);
    const iteration = iterationsPerEpoch === undefined ? undefined : epoch * iterationsPerEpoch + iterationInEpoch;
    return { key, run: sgd[1] ?? '', epoch, iterationInEpoch, iteration };
  }
  const rl = RL_KEY.exec(key);
  if (rl) return { key, run: rl[1] ?? '', iteration: Number(rl[2]) };
  return null;
}
