// PPO on Gymnasium's CartPole-v1 with continuous force, training the G.pt paper's Gaussian MLP
// policy (1,250 parameters) with the paper's Cartpole recipe (@gpt/rl-cartpole's defaults:
// 512 envs x 16 steps, 8 epochs x 2 minibatches, Adam 3e-4 cosine, 500 iterations; plus
// truncation bootstrapping and rewards scaled by 0.01, --paper for the recipe alone). Prints a
// progress line per iteration, evaluates the final policy over more than 200 episodes (sampled
// and mean actions), and writes the return curve as an SVG. --seeds N trains N seeds in turn
// and summarizes them; --bench-env only measures the vector environment's steps per second.
//
// Run from the repository root (--help lists the options):
//   pnpm example cartpole-ppo [--iterations N] [--envs N] [--seed S] [--seeds N] [--kernels wasm] [--paper] [--gamma G] [--reward-scale R] [--out FILE] [--bench-env]

import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { defineCli, describeRuntime, runCli, type CliValues } from '@gpt/g-pt/cli';
import { CartPoleVectorEnv, evaluatePolicy, PPO_DEFAULTS, PPO_PAPER, trainPpo, type IterationStats } from '@gpt/rl-cartpole';
import { Generator, memory, setCpuKernels, type CpuKernelMode } from '@gpt/tensor';
import { returnCurveSvg } from './return-curve-svg.js';

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

export interface SeedResult {
  seed: number;
  trainSeconds: number;
  /** the checkpoint metric after the last iteration: mean of the last 200 training episodes */
  finalTrainReturn: number;
  evalSampled: number;
  evalMean: number;
  history: IterationStats[];
}

function progressLine(s: IterationStats, seed: number): string {
  const ret = Number.isFinite(s.meanReturn) ? s.meanReturn.toFixed(1).padStart(6) : '     -';
  return (
    `seed ${seed} iter ${String(s.iteration).padStart(String(s.iterations).length)}/${s.iterations}  return ${ret}` +
    `  episodes ${String(s.finishedEpisodes).padStart(6)}  std ${s.actionStd.toFixed(3)}  lr ${s.learningRate.toExponential(2)}` +
    `  value loss ${s.valueLoss.toFixed(3).padStart(8)}  grad norm ${s.gradNorm.toPrecision(3).padStart(7)}  rollout ${s.rolloutSeconds.toFixed(3)} s  update ${s.updateSeconds.toFixed(3)} s`
  );
}

/** Steps of the vector environment alone per second, with fixed pre-drawn actions (no policy). */
export function benchVectorEnv(numEnvs: number, actionType: 'discrete' | 'continuous', seconds = 2): { stepsPerSecond: number; steps: number } {
  const env = new CartPoleVectorEnv(numEnvs, { actionType });
  env.reset({ seed: 0 });
  const g = new Generator(1);
  // 16 action arrays cycled, so the measurement is the environment and not the draws.
  const actions = Array.from({ length: 16 }, () =>
    actionType === 'discrete' ? Int32Array.from(g.randint(0, 2, numEnvs)) : Float32Array.from(g.normal(numEnvs)),
  );
  let calls = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < seconds * 1000) {
    for (let k = 0; k < 100; k++) env.step(actions[(calls + k) % 16]!);
    calls += 100;
    elapsed = performance.now() - start;
  }
  return { stepsPerSecond: (calls * numEnvs) / (elapsed / 1000), steps: calls * numEnvs };
}

export const cli = defineCli({
  name: 'pnpm example cartpole-ppo',
  summary: "PPO on Gymnasium's CartPole-v1 (continuous force) with the G.pt paper's Gaussian MLP policy and PPO recipe; writes the return curve as SVG.",
  options: {
    iterations: { type: 'integer', default: PPO_DEFAULTS.iterations, min: 1, description: 'PPO iterations (rollout + update)' },
    envs: { type: 'integer', default: PPO_DEFAULTS.numEnvs, min: 1, description: 'environments stepped together' },
    steps: { type: 'integer', default: PPO_DEFAULTS.numSteps, min: 1, description: 'steps per environment per iteration' },
    seed: { type: 'integer', default: 0, min: 0, description: 'seed of the first run (networks, environments, action noise)' },
    seeds: { type: 'integer', default: 1, min: 1, description: 'runs with seeds seed, seed+1, ... and a summary' },
    gamma: { type: 'number', default: PPO_DEFAULTS.gamma, min: 0, max: 1, description: 'discount factor' },
    logStdScale: { type: 'number', default: PPO_DEFAULTS.logStdScale, min: 0, description: 'action std = exp(logStdScale * log_std) (2: the paper code)' },
    rewardScale: { type: 'number', min: 0, description: `rewards are scaled by this for GAE and the critic (default ${PPO_DEFAULTS.rewardScale}; --paper: ${PPO_PAPER.rewardScale})` },
    maxGradNorm: { type: 'number', default: PPO_DEFAULTS.maxGradNorm, min: 0, description: 'global grad-norm clip over actor and critic' },
    paper: { type: 'boolean', description: "the paper's recipe exactly (PPO_PAPER): rewards unscaled, truncation treated as termination" },
    lr: { type: 'number', default: PPO_DEFAULTS.learningRate, min: 0, description: 'Adam learning rate (cosine-decayed)' },
    noBootstrap: { type: 'boolean', description: 'treat time-limit truncation as termination (the paper code and CleanRL) instead of bootstrapping V(final observation)' },
    evalEpisodes: { type: 'integer', default: 200, min: 1, description: 'the evaluation averages more than this many finished episodes' },
    out: { type: 'string', placeholder: 'FILE', description: 'SVG return curve (default: cartpole-ppo.svg in the temporary folder)' },
    kernels: {
      type: 'string',
      choices: ['auto', 'wasm', 'wasm-threads', 'ts'],
      default: 'wasm',
      // One thread was 12-14% faster than 'auto' on the 2-core machine (a full run 52-54 s vs 61 s);
      // datasets run one training per core anyway.
      description: "@gpt/tensor's CPU kernels ('wasm', the default: one thread; 'auto': threads where available)",
    },
    quiet: { type: 'boolean', description: 'print every 50th iteration instead of every one' },
    benchEnv: { type: 'boolean', description: 'only measure the vector environment (steps per second, no policy) and exit' },
  },
});

export async function main(options: CliValues<typeof cli.options>): Promise<void> {
  setCpuKernels(options.kernels as CpuKernelMode);
  console.log(describeRuntime());
  if (options.benchEnv) {
    for (const actionType of ['continuous', 'discrete'] as const) {
      for (const numEnvs of [options.envs, 4096]) {
        const { stepsPerSecond } = benchVectorEnv(numEnvs, actionType);
        console.log(`CartPoleVectorEnv ${actionType.padEnd(10)} ${String(numEnvs).padStart(5)} envs: ${(stepsPerSecond / 1e6).toFixed(1)} M env steps/s`);
      }
    }
    return;
  }
  const out = options.out ?? join(tmpdir(), 'cartpole-ppo.svg');
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  console.log(
    `CartPole-v1, continuous force; policy 4 -> 32 -> 32 -> 1 SELU + log_std (1,250 parameters); PPO ${options.envs} envs x ${options.steps} steps, ` +
      `${PPO_DEFAULTS.epochs} epochs x ${PPO_DEFAULTS.minibatches} minibatches, Adam ${options.lr} cosine, ${options.iterations} iterations, ` +
      `gamma ${options.gamma}, reward scale ${options.rewardScale ?? (options.paper ? PPO_PAPER.rewardScale : PPO_DEFAULTS.rewardScale)}, ` +
      `truncation ${options.noBootstrap || options.paper ? 'as termination' : 'bootstrapped'}, action std exp(${options.logStdScale} log_std)`,
  );
  const results: SeedResult[] = [];
  for (let seed = options.seed; seed < options.seed + options.seeds; seed++) {
    const started = performance.now();
    const result = await trainPpo({
      numEnvs: options.envs,
      numSteps: options.steps,
      iterations: options.iterations,
      gamma: options.gamma,
      logStdScale: options.logStdScale,
      bootstrapTruncated: !options.noBootstrap && !options.paper,
      rewardScale: options.rewardScale ?? (options.paper ? PPO_PAPER.rewardScale : PPO_DEFAULTS.rewardScale),
      learningRate: options.lr,
      maxGradNorm: options.maxGradNorm,
      seed,
      signal: controller.signal,
      onIteration: (s) => {
        if (!options.quiet || s.iteration % 50 === 0 || s.iteration === s.iterations) console.log(progressLine(s, seed));
      },
    });
    const trainSeconds = (performance.now() - started) / 1000;
    const evaluation = { numEnvs: 512, minEpisodes: options.evalEpisodes, seed: 1000 + seed };
    const sampled = evaluatePolicy(result.policy, evaluation);
    const mean = evaluatePolicy(result.policy, { ...evaluation, deterministic: true });
    const last = result.history.at(-1)!;
    results.push({ seed, trainSeconds, finalTrainReturn: last.meanReturn, evalSampled: sampled.meanReturn, evalMean: mean.meanReturn, history: result.history });
    const rollout = result.history.reduce((t, s) => t + s.rolloutSeconds, 0);
    const update = result.history.reduce((t, s) => t + s.updateSeconds, 0);
    console.log(
      `seed ${seed}: trained in ${trainSeconds.toFixed(1)} s (rollouts ${rollout.toFixed(1)} s, updates ${update.toFixed(1)} s); ` +
        `last-200 training return ${last.meanReturn.toFixed(1)}; evaluation over > ${options.evalEpisodes} episodes: ` +
        `sampled actions ${sampled.meanReturn.toFixed(1)} (${sampled.returns.length} episodes), mean actions ${mean.meanReturn.toFixed(1)}`,
    );
    for (const p of [...result.policy.parameters(), ...result.critic.parameters()]) p.dispose();
  }
  process.off('SIGINT', onSignal);
  if (results.length > 1) {
    console.log('seed  train s  last-200 return  eval sampled  eval mean');
    for (const r of results) {
      console.log(`${String(r.seed).padStart(4)}  ${r.trainSeconds.toFixed(1).padStart(7)}  ${r.finalTrainReturn.toFixed(1).padStart(15)}  ${r.evalSampled.toFixed(1).padStart(12)}  ${r.evalMean.toFixed(1).padStart(9)}`);
    }
    const reached = results.filter((r) => r.finalTrainReturn >= 475).length;
    console.log(`${reached} of ${results.length} runs reached a last-200 training return >= 475`);
  }
  const svg = returnCurveSvg(
    results.map((r, i) => ({ label: `seed ${r.seed}`, returns: r.history.map((s) => s.meanReturn), color: COLORS[i % COLORS.length]! })),
    { title: `PPO on CartPole-v1 (continuous), G.pt policy, ${options.envs} envs x ${options.steps} steps`, target: 475 },
  );
  writeFileSync(out, svg);
  console.log(`return curve written to ${out}; live tensors ${memory().tensors}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runCli(cli, main);
