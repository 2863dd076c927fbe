// trainPpo's initialPolicy: the given vector replaces the seed's policy and nothing else of the
// seed's draws changes (critic, environment and evaluation seeds, action noise). Checked
// against an independent replay of the seed's draws and against a run without the option.
import { flattenParameters } from '@gpt/nn';
import { Generator, memory } from '@gpt/tensor';
import { describe, expect, it } from 'vitest';
import { CartPoleCritic, evaluatePolicy, GaussianMlpPolicy, trainPpo, type PolicyCheckpoint } from '../src/index.js';

const tiny = { numEnvs: 8, numSteps: 8, epochs: 2, minibatches: 2, learningRate: 3e-3, lrSchedule: 'constant' as const };

function flatOf(policy: GaussianMlpPolicy): Float32Array {
  const flat = flattenParameters(policy);
  const values = Float32Array.from(flat.dataSync() as Float32Array); // [1250]
  flat.dispose();
  return values;
}

/** What a run records: its checkpoints, its per-iteration statistics and the final critic. */
async function record(seed: number, initialPolicy?: Float32Array) {
  const checkpoints: PolicyCheckpoint[] = [];
  const result = await trainPpo({ ...tiny, iterations: 3, seed, initialPolicy, checkpointIterations: [0, 1, 3], onCheckpoint: (c) => void checkpoints.push(c) });
  const critic = flattenParameters(result.critic);
  const criticValues = [...critic.dataSync()];
  critic.dispose();
  result.policy.dispose();
  result.critic.dispose();
  const history = result.history.map(({ rolloutSeconds: _r, updateSeconds: _u, ...stats }) => stats);
  return { checkpoints: checkpoints.map((c) => ({ ...c, flatPolicy: [...c.flatPolicy] })), history, critic: criticValues };
}

describe('trainPpo initialPolicy', () => {
  it("the seed's own initialization as initialPolicy gives the same run as none", async () => {
    const own = new GaussianMlpPolicy({ generator: new Generator(7) });
    const init = flatOf(own);
    own.dispose();
    const plain = await record(7);
    expect(plain.checkpoints[0]!.flatPolicy).toEqual([...init]); // the replay draws what the run draws
    expect(await record(7, init)).toEqual(plain);
  });

  it('another vector becomes the iteration-0 policy; the other draws stay the seed’s', async () => {
    const before = memory().tensors;
    const other = new GaussianMlpPolicy({ generator: new Generator(123) });
    const vector = flatOf(other);
    other.dispose();
    const copy = Float32Array.from(vector);
    const run = await record(7, vector);
    expect(vector).toEqual(copy); // not written to
    expect(run.checkpoints[0]!.flatPolicy).toEqual([...vector]);
    // Replay the seed's draws: policy, critic, environment seed, evaluation seed. The
    // iteration-0 return is the evaluation of the given vector with the seed's evaluation seed.
    const root = new Generator(7);
    const drawnPolicy = new GaussianMlpPolicy({ generator: root });
    const drawnCritic = new CartPoleCritic({ generator: root });
    root.int(0, 2 ** 30);
    const evalSeed = root.int(0, 2 ** 30);
    drawnPolicy.dispose();
    drawnCritic.dispose();
    expect(run.checkpoints[0]!.meanReturn).toBe(evaluatePolicy(vector, { numEnvs: tiny.numEnvs, seed: evalSeed }).meanReturn);
    // Training moves it, and differently from the seed's own start.
    const plain = await record(7);
    expect(run.checkpoints[2]!.flatPolicy).not.toEqual(run.checkpoints[0]!.flatPolicy);
    expect(run.checkpoints[2]!.flatPolicy).not.toEqual(plain.checkpoints[2]!.flatPolicy);
    expect(memory().tensors).toBe(before);
  });

  it('rejects a vector of the wrong length or type, naming the option, and leaves no tensors', async () => {
    const before = memory().tensors;
    await expect(trainPpo({ ...tiny, iterations: 1, initialPolicy: new Float32Array(10) })).rejects.toThrow(
      'trainPpo: initialPolicy must be a Float32Array of 1250 values (the policy\'s flat parameters), got 10 values',
    );
    await expect(trainPpo({ ...tiny, iterations: 1, initialPolicy: new Float64Array(1250) as unknown as Float32Array })).rejects.toThrow(/initialPolicy must be a Float32Array of 1250 values.*got \[object Float64Array\]/);
    expect(memory().tensors).toBe(before);
  });
});
