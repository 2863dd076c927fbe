// Prompt sweep (gpt-paper.md §5.2): on unseen random initializations, ask G.pt for a range of
// metrics, from the task's best prompt to the network's current one, and measure what each
// generated network really reaches: the "desired vs observed" curve per network, its R²
// and the mean R² (prompt alignment). Writes the JSON report and the desired-vs-observed
// plot (SVG).
//
// Run from the repository root (--help lists the options):
//   pnpm example prompt-sweep                   # train a small G.pt first (a few minutes)
//   pnpm example prompt-sweep --gpt out/gpt     # a `gpt train` output folder
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { alignmentScatter, promptAlignment, writePlot } from '@gpt/g-pt';
import { defineCli, describeRuntime, runCli, type CliValues } from '@gpt/g-pt/cli';
import { writeJson } from '../multimodality-landscape/write-json.js';
import { interruptOnCtrlC, QUICK_GPT_OPTIONS, quickGpt, SAMPLER_OPTIONS, unseenInitializations } from '../multimodality-landscape/quick-gpt.js';

export const cli = defineCli({
  name: 'pnpm example prompt-sweep',
  summary: 'Desired vs observed: G.pt prompted with a sweep of target metrics on unseen random initializations; prompt alignment (R²) and its plot.',
  options: {
    ...QUICK_GPT_OPTIONS,
    sampler: SAMPLER_OPTIONS.sampler,
    samplerSteps: SAMPLER_OPTIONS.samplerSteps,
    networks: { type: 'integer', default: 4, min: 1, description: 'unseen random initializations to prompt' },
    prompts: { type: 'integer', default: 20, min: 2, description: 'prompts per network (the paper: 20)' },
  },
});

export async function main(options: CliValues<typeof cli.options>): Promise<void> {
  const interrupt = interruptOnCtrlC();
  console.log(describeRuntime());
  const { trained, task } = await quickGpt({ ...options, signal: interrupt.signal, log: (line) => console.log(line) });
  const params = unseenInitializations(task, options.networks, options.seed);
  console.log(`prompting ${options.networks} unseen ${task.name} networks with ${options.prompts} prompts each (${options.sampler})`);
  const report = await promptAlignment(trained, task, params, {
    prompts: options.prompts,
    sampler: options.sampler,
    steps: options.samplerSteps,
    seed: options.seed,
    signal: interrupt.signal,
  });
  interrupt.release();
  const unit = task.metric.unit ? ` ${task.metric.unit}` : '';
  for (const n of report.networks) {
    console.log(`network ${n.network}: start ${n.startMetric.toFixed(3)}${unit}, R² ${n.r2.toFixed(3)}`);
    console.log(`  desired  ${n.prompts.map((p) => p.toFixed(2).padStart(7)).join(' ')}`);
    console.log(`  observed ${n.achieved.map((p) => p.toFixed(2).padStart(7)).join(' ')}`);
  }
  console.log(`prompt alignment (mean R² over networks) ${report.promptAlignment.toFixed(3)}, median ${report.medianR2.toFixed(3)}; ${report.sampler}, ${report.samplingSeconds.toFixed(1)} s of sampling`);

  const dir = join(options.out, 'prompt-sweep');
  const json = await writeJson(dir, 'prompt-sweep.json', report);
  const svg = await alignmentScatter({
    title: `${task.name}: desired vs observed ${task.metric.label} (${report.sampler}, prompt alignment ${report.promptAlignment.toFixed(2)})`,
    desiredTitle: `prompted ${task.metric.label}${unit ? ` (${unit.trim()})` : ''}`,
    observedTitle: `achieved ${task.metric.label}${unit ? ` (${unit.trim()})` : ''}`,
    points: report.networks.flatMap((n) => n.prompts.map((desired, i) => ({ desired, observed: n.achieved[i]!, group: `network ${n.network} (R² ${n.r2.toFixed(2)})` }))),
  });
  console.log(`wrote ${json} and ${await writePlot(dir, 'desired-vs-observed', svg)}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runCli(cli, main);
