// The output folder of a run as the loop uses it: refuses to overwrite a saved run, finds the
// checkpoint to resume, prunes half-written folders, opens the log, and writes checkpoints
// (once per step) and moves the latest/best pointers (train-state.ts has the format).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { TrainLog } from './train-log.js';
import { pruneCheckpoints, readPointer, readSavedState, setPointer, writeCheckpoint, type CheckpointPointer, type SavedTrainState } from './train-state.js';
import type { GptTrainer, TrainGptOptions } from './trainer.js';

/** The output folder of a run: its log, its checkpoints and the pointers to them. */
export class TrainOutput {
  private lastWritten: { step: number; relative: string } | null = null;

  private constructor(
    readonly dir: string,
    readonly log: TrainLog,
    readonly resumeFrom: { dir: string; state: SavedTrainState } | null,
    private readonly noSync: boolean,
  ) {}

  static async open(dir: string, options: Pick<TrainGptOptions, 'resume' | 'noSync'>): Promise<TrainOutput> {
    await mkdir(dir, { recursive: true });
    const latest = await readPointer(dir, 'latest');
    if (latest !== null && !options.resume) {
      throw new Error(`trainGpt: "${dir}" already holds a training run (${latest}); pass resume to continue it, or choose another output folder`);
    }
    let resumeFrom: { dir: string; state: SavedTrainState } | null = null;
    if (latest !== null) {
      const checkpointDir = join(dir, latest);
      resumeFrom = { dir: checkpointDir, state: await readSavedState(checkpointDir) };
    }
    await pruneCheckpoints(dir); // a folder a kill left half-written
    const log = await TrainLog.open(dir, resumeFrom?.state.step ?? null);
    return new TrainOutput(dir, log, resumeFrom, options.noSync ?? false);
  }

  /** Writes the trainer's state (once per step) and points `pointer` at it. */
  async save(trainer: GptTrainer, pointer: CheckpointPointer): Promise<void> {
    let relative = this.lastWritten?.step === trainer.step ? this.lastWritten.relative : null;
    if (relative === null) {
      const step = trainer.step;
      relative = await writeCheckpoint(
        this.dir,
        { state: trainer.savedState(), model: trainer.model, emaModel: trainer.trainedGpt().model, optimizer: trainer.optimizer },
        { noSync: this.noSync, onFile: (file) => trainer.emit({ type: 'checkpoint-file', step, file }) },
      );
      this.lastWritten = { step, relative };
    }
    await setPointer(this.dir, pointer, relative, trainer.step, { noSync: this.noSync });
    await pruneCheckpoints(this.dir);
    trainer.emit({ type: 'checkpoint', step: trainer.step, dir: join(this.dir, relative), kind: pointer });
  }

  private closing: Promise<void> | null = null;

  /** Closes the log; calling it again waits for the same close. */
  close(): Promise<void> {
    this.closing ??= this.log.close();
    return this.closing;
  }
}
