// The official pretrained G.pt models (gpt-paper.md §3.10: mnist_loss.pt, mnist_error.pt,
// cifar10_loss.pt, cifar10_error.pt, cartpole.pt) loaded from their PyTorch files — the EMA
// weights "G_ema" into @gpt/transformer's Gpt by state-dict name, with the released task
// constants — and used for one-step optimization of unseen random networks: the metric
// before and after one G.pt update, per network.
//
// Run from the repository root (--help lists the options):
//   pnpm example official-weights                          # where the files come from
//   pnpm example official-weights --file ~/pretrained_models/mnist_error.pt
//   pnpm example official-weights --file packages/g-pt/test/fixtures/official-tiny-cartpole.pt \
//     --task cartpole --n-embd 8 --n-layer 1 --n-head 2 --num-frequencies 8   # the test fixture (untrained)
import { pathToFileURL } from 'node:url';
import { OFFICIAL_GPT_MODELS, createTask, loadOfficialGpt, optimize, unseenInitializations, type OfficialGptName } from '@gpt/g-pt';
import { defineCli, describeRuntime, runCli, type CliValues } from '@gpt/g-pt/cli';
import { GPT_PRESETS } from '@gpt/transformer';

export const cli = defineCli({
  name: 'pnpm example official-weights',
  summary: 'Loads an official pretrained G.pt .pt file and optimizes unseen random networks with one update.',
  options: {
    file: { type: 'string', placeholder: 'PATH', description: 'the official .pt file (without it: where to get the files)' },
    task: { type: 'string', choices: Object.keys(OFFICIAL_GPT_MODELS), description: 'which model the file is (default: from the file name)' },
    weights: { type: 'string', default: 'G_ema', choices: ['G_ema', 'G'], description: 'the EMA weights (what the paper evaluates) or the raw ones' },
    taskData: { type: 'string', placeholder: 'DIR', description: "the task's data folder (CIFAR-10 needs its binary batches; MNIST uses the bundled digits)" },
    networks: { type: 'integer', default: 4, min: 1, description: 'unseen random initializations to optimize' },
    prompt: { type: 'number', description: "prompted metric (default: the task's best prompt)" },
    sampler: { type: 'string', default: 'ddim', choices: ['ddim', 'ddpm'], description: 'sampler; the paper evaluates with DDPM-1000' },
    samplerSteps: { type: 'integer', min: 1, description: 'model calls per sample (default: 50 for DDIM, 1000 for DDPM)' },
    seed: { type: 'integer', default: 0, min: 0, description: 'seed of the networks and the noise' },
    nEmbd: { type: 'integer', min: 1, description: "transformer width, for a file of another size than the released config's" },
    nLayer: { type: 'integer', min: 1, description: 'transformer blocks (with --n-embd)' },
    nHead: { type: 'integer', min: 1, description: 'attention heads (with --n-embd)' },
    numFrequencies: { type: 'integer', min: 1, description: 'scalar-embedding frequencies (with --n-embd)' },
  },
});

const WHERE_FROM = `The official G.pt models are PyTorch files published by the paper's authors
(wpeebles/G.pt on GitHub; its Gpt/download.py fetches mnist_loss.pt, mnist_error.pt,
cifar10_loss.pt, cifar10_error.pt and cartpole.pt from the project's server into
pretrained_models/, and the README links them). They are 1.3-2.4 GB each (378M to 640M
parameters, plus the raw weights and the optimizer state) and are not part of this repository.
Download one, then:
  pnpm example official-weights --file pretrained_models/mnist_error.pt
The file layout ({"G", "optim", "G_ema"}, torch.save) is tested with a tiny stand-in made by
scripts/fixtures/official_gpt_fixture.py (packages/g-pt/test/fixtures/official-tiny-cartpole.pt).`;

export async function main(options: CliValues<typeof cli.options>): Promise<void> {
  if (!options.file) {
    console.log(WHERE_FROM);
    return;
  }
  console.log(describeRuntime());
  const size = { nEmbd: options.nEmbd, nLayer: options.nLayer, nHead: options.nHead, numFrequencies: options.numFrequencies };
  const custom = Object.values(size).some((v) => v !== undefined);
  const name = options.task as OfficialGptName | undefined;
  const preset = name ? GPT_PRESETS[OFFICIAL_GPT_MODELS[name].preset] : undefined;
  if (custom && !preset) throw new Error('--n-embd and friends need --task (they override that task\'s released config)');
  const config = custom ? { ...preset, ...Object.fromEntries(Object.entries(size).filter(([, v]) => v !== undefined)) } : undefined;
  const started = performance.now();
  let lastLine = 0;
  const trained = await loadOfficialGpt(options.file, {
    task: name,
    weights: options.weights as 'G_ema' | 'G',
    config,
    onProgress: (e) => {
      if (performance.now() - lastLine > 5000 || e.done === e.total) {
        lastLine = performance.now();
        console.log(`  read ${e.done}/${e.total} tensors`);
      }
    },
  });
  const c = trained.config;
  console.log(`loaded ${options.weights} of ${options.file} as ${trained.task}: width ${c.nEmbd}, ${c.nLayer} blocks, ${c.nHead} heads, ${trained.model.parameterCount.toLocaleString('en-US')} parameters, normalization coefficient ${trained.normalizationCoefficient} (${((performance.now() - started) / 1000).toFixed(1)} s)`);
  const task = await createTask(trained.task, options.taskData === undefined ? {} : { dataDir: options.taskData });
  const params = unseenInitializations(task, options.networks, options.seed);
  const result = await optimize(trained, task, params, { prompt: options.prompt, sampler: options.sampler as 'ddim' | 'ddpm', steps: options.samplerSteps, seed: options.seed });
  const unit = task.metric.unit ? ` ${task.metric.unit}` : '';
  console.log(`one G.pt update (${result.sampler}, prompt ${result.samples[0]!.prompt}${unit}), ${result.samplingSeconds.toFixed(1)} s of sampling:`);
  console.log(`network  ${task.metric.label} before  after`);
  for (const s of result.samples) console.log(`${String(s.network).padStart(7)}  ${result.startMetric[s.network]!.toFixed(3).padStart(14)}  ${s.metric.toFixed(3)}${unit}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runCli(cli, main);
