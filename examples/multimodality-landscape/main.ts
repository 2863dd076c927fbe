// Multimodality (gpt-paper.md §5.5): ask G.pt several times for the same update of one unseen
// network and look at what comes back — how far apart the samples are, whether the straight
// line between two of them gets worse in the middle (a sign of separate modes), the metric
// over the plane of their two main directions with the samples marked, and how far each
// sample lies from the nearest training checkpoint (does G.pt generate or copy? hidden
// units aligned). Writes landscape.json + landscape.svg and novelty.json + novelty.svg.
//
// Run from the repository root (--help lists the options):
//   pnpm example multimodality-landscape                              # trains a small G.pt first
//   pnpm example multimodality-landscape --gpt out/gpt --data out/data  # a `gpt train` folder and its dataset
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { landscape, landscapePlot, median, noveltyAgainstDataset, noveltyPlot, writePlot } from '@gpt/g-pt';
import { defineCli, describeRuntime, runCli, type CliValues } from '@gpt/g-pt/cli';
import { interruptOnCtrlC, QUICK_GPT_OPTIONS, quickGpt, SAMPLER_OPTIONS, unseenInitializations } from './quick-gpt.js';
import { writeJson } from './write-json.js';

export const cli = defineCli({
  name: 'pnpm example multimodality-landscape',
  summary: 'Several G.pt samples for one unseen network and prompt: distances, midpoints, the metric over the plane of their principal directions, and their distance to the training checkpoints.',
  options: {
    ...QUICK_GPT_OPTIONS,
    ...SAMPLER_OPTIONS,
    data: { type: 'string', placeholder: 'DIR', description: "the G.pt's checkpoint dataset, for the novelty check with --gpt (default: the dataset made here)" },
    samples: { type: 'integer', default: 8, min: 2, description: 'samples for the one (network, prompt)' },
    gridSize: { type: 'integer', default: 15, min: 2, description: 'grid points per axis of the plane' },
  },
});

export async function main(options: CliValues<typeof cli.options>): Promise<void> {
  const interrupt = interruptOnCtrlC();
  console.log(describeRuntime());
  const log = (line: string) => console.log(line);
  const { trained, task, dataset } = await quickGpt({ ...options, signal: interrupt.signal, log });
  const [start] = unseenInitializations(task, 1, options.seed);
  const unit = task.metric.unit ? ` ${task.metric.unit}` : '';
  console.log(`${options.samples} samples of one unseen ${task.name} network, ${options.gridSize}x${options.gridSize} grid`);
  let lastGrid = 0;
  const { report, samples } = await landscape(trained, task, start!, {
    samples: options.samples,
    prompt: options.prompt,
    gridSize: options.gridSize,
    sampler: options.sampler,
    steps: options.samplerSteps,
    seed: options.seed,
    signal: interrupt.signal,
    onProgress: (event) => {
      if (event.type === 'grid' && (performance.now() - lastGrid > 5000 || event.done === event.total)) {
        lastGrid = performance.now();
        log(`  grid ${event.done}/${event.total}`);
      }
    },
  });
  console.log(`start ${report.start.metric.toFixed(3)}${unit}, prompt ${report.prompt}${unit} (${report.sampler})`);
  console.log(`samples reach ${report.samples.map((s) => s.metric.toFixed(2)).join(', ')}${unit}`);
  const d = report.distanceSummary;
  console.log(`pairwise distances (raw parameters): min ${d.min.toFixed(3)}, median ${d.median.toFixed(3)}, max ${d.max.toFixed(3)}; from the start: median ${median(report.samples.map((s) => s.distanceToStart)).toFixed(3)}`);
  const penalties = report.midpoints.map((m) => m.penalty);
  console.log(`midpoints worse than their ends' mean in ${penalties.filter((p) => p > 0).length}/${penalties.length} pairs (largest ${Math.max(...penalties).toFixed(3)}${unit})`);
  const share = report.plane.totalVariance > 0 ? (100 * (report.plane.explainedVariance[0] + report.plane.explainedVariance[1])) / report.plane.totalVariance : 0;
  console.log(`the plane's two directions hold ${share.toFixed(0)}% of the samples' variance (${report.plane.directionSources.join(', ')})`);
  const dir = join(options.out, 'multimodality-landscape');
  console.log(`wrote ${await writeJson(dir, 'landscape.json', report)} and ${await writePlot(dir, 'landscape', await landscapePlot(report))}`);

  const datasetDir = options.data ?? dataset;
  if (!datasetDir) {
    console.log('novelty: skipped (give --data with the dataset the G.pt learned from)');
  } else {
    const result = await noveltyAgainstDataset(task, samples, datasetDir, { normalizationCoefficient: trained.normalizationCoefficient, signal: interrupt.signal });
    const s = result.summary;
    console.log(`novelty over ${result.trainingRuns} training runs (${result.trainingCheckpoints} checkpoints); ${result.alignmentNote}`);
    console.log(`  nearest training checkpoint of a sample: median ${s.generatedAligned.median.toFixed(3)} aligned, ${s.generatedPlain.median.toFixed(3)} plain`);
    for (const r of s.references) console.log(`  nearest training checkpoint of a ${r.name}: median ${r.aligned.median.toFixed(3)}`);
    console.log(`  consecutive saved checkpoints of a run: median ${s.neighbour.median.toFixed(3)}; first to last: median ${s.runLength.median.toFixed(3)}; ratio sample/neighbour ${s.generatedToNeighbourRatio.toFixed(2)}`);
    if (s.normalizedMedians) console.log(`  in G.pt's normalized space (x ${result.normalizationCoefficient!.toFixed(3)}): sample ${s.normalizedMedians.generatedAligned.toFixed(2)}, neighbour ${s.normalizedMedians.neighbour.toFixed(2)}, run ${s.normalizedMedians.runLength.toFixed(2)}`);
    console.log(`wrote ${await writeJson(dir, 'novelty.json', result)} and ${await writePlot(dir, 'novelty', await noveltyPlot(result))}`);
  }
  interrupt.release();
}


if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await runCli(cli, main);
