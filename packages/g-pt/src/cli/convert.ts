// `gpt convert`: an official G.pt checkpoint dataset (one LMDB environment per run, as
// released by the paper's authors) into our format (one safetensors file per run), through
// @gpt/checkpoints' resumable converter. The official bad-run filter is on by default.
import { resolve } from 'node:path';
import { OFFICIAL_TASKS } from '@gpt/checkpoints';
import { type ConvertProgressEvent, convertOfficialDataset } from '@gpt/checkpoints/lmdb';
import { defineCli, type CliValues } from './options.js';
import { ProgressDisplay, abortOnSigint, formatDuration } from './progress.js';

export const cli = defineCli({
  name: 'gpt convert',
  summary:
    'Converts an official G.pt checkpoint dataset (a folder of run folders, each an LMDB environment with runs.json) into ' +
    'a checkpoint dataset of this package (DIR/manifest.json + DIR/runs/*.safetensors). Runs already converted are kept, ' +
    'so an interrupted conversion resumes. Runs with NaN/Inf or |parameter| > 10 are dropped, like the official pipeline.',
  options: {
    from: { type: 'string', required: true, placeholder: 'DIR', description: 'the official dataset folder (e.g. checkpoint_datasets/mnist)' },
    out: { type: 'string', required: true, placeholder: 'DIR', description: 'the dataset folder to write' },
    task: { type: 'string', required: true, choices: Object.keys(OFFICIAL_TASKS), description: "the dataset's network" },
    testRuns: { type: 'integer', min: 0, placeholder: 'M', description: "runs of the test split (default: the paper's: 500 MNIST, 2050 CIFAR-10 and Cartpole)" },
    keepBadRuns: { type: 'boolean', description: 'keep runs the official filter drops (non-finite or |parameter| > 10)' },
    maxAbs: { type: 'number', min: 0, default: 10, description: 'the filter threshold on |parameter|' },
    skipInvalid: { type: 'boolean', description: 'skip runs that cannot be read (default: stop at the first)' },
    verifyDone: { type: 'boolean', description: 'convert only run folders with DONE.txt (finished runs)' },
    noSync: { type: 'boolean', description: 'skip fsync per run (faster; not safe against power loss)' },
    json: { type: 'boolean', description: 'print the progress events as JSON lines instead of a bar' },
  },
});

export async function main(values: CliValues<typeof cli.options>): Promise<void> {
  const task = OFFICIAL_TASKS[values.task as keyof typeof OFFICIAL_TASKS];
  const out = resolve(values.out);
  const interrupt = abortOnSigint();
  let display: ProgressDisplay | undefined;
  let complete = 0;
  let total = 0;
  const onProgress = (event: ConvertProgressEvent): void => {
    if (values.json) {
      const { error, ...rest } = event as ConvertProgressEvent & { error?: Error };
      process.stdout.write(`${JSON.stringify(error ? { ...rest, error: error.message } : rest)}\n`);
      return;
    }
    total = event.total;
    display ??= new ProgressDisplay({ label: 'runs', total: event.total });
    if (event.type === 'run-converted' || event.type === 'run-exists') complete += 1;
    if (event.type === 'run-filtered') display.log(`run ${event.run} dropped by the bad-run filter: ${event.reason}`);
    if (event.type === 'run-invalid') display.log(`run ${event.run} skipped, it cannot be read: ${event.error.message}`);
    display.update({ done: event.index + 1 });
  };
  const start = performance.now();
  try {
    const summary = await convertOfficialDataset(resolve(values.from), out, {
      task,
      ...(values.testRuns !== undefined ? { numTestRuns: values.testRuns } : {}),
      filterBadRuns: !values.keepBadRuns,
      maxAbs: values.maxAbs,
      onInvalidRun: values.skipInvalid ? 'skip' : 'throw',
      verifyDone: values.verifyDone,
      noSync: values.noSync,
      signal: interrupt.signal,
      onProgress,
    });
    display?.finish();
    if (!values.json) {
      process.stdout.write(
        `converted ${summary.converted.length} runs, ${summary.existing.length} already there, ${summary.filtered.length} dropped by the filter, ` +
          `${summary.invalid.length} unreadable, in ${formatDuration((performance.now() - start) / 1000)}; dataset in ${out}\n`,
      );
    }
  } catch (error) {
    display?.finish();
    if (interrupt.signal.aborted) {
      process.stderr.write(`gpt convert: interrupted; ${complete} of ${total} runs are converted in ${out}. Run the same command again to resume.\n`);
      process.exitCode = 130;
      return;
    }
    throw error;
  } finally {
    interrupt.dispose();
  }
}
