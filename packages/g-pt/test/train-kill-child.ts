// Child process of train-kill.test.ts: trains the toy with a checkpoint every 2 steps and,
// while the checkpoint of step PAUSE_STEP is half written (after PAUSE_FILE), says
// "PAUSED" and blocks so that the parent can kill -9 it at exactly that moment.
// argv: DATA OUT PAUSE_STEP PAUSE_FILE
import { trainGpt } from '../src/train/trainer.js';
import { toyTrainOptions } from './train-toy.js';

const [data, out, pauseStep, pauseFile] = process.argv.slice(2) as [string, string, string, string];

await trainGpt({
  ...toyTrainOptions(data, { out, checkpointEvery: 2, steps: 100, noSync: false }), // real fsyncs: the path a crash meets
  onProgress: (event) => {
    if (event.type === 'checkpoint' && event.kind === 'latest') process.stdout.write(`SAVED ${event.step}\n`);
    if (event.type === 'checkpoint-file' && event.step === Number(pauseStep) && event.file === pauseFile) {
      process.stdout.write('PAUSED\n'); // synchronous for pipes on Linux, so it is out before the block
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 120_000);
    }
  },
});
