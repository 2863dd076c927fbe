// The run's JSONL log (<out>/train.jsonl): one JSON object per line for every metric event
// (steps, held-out losses, evaluation scores, checkpoints), with the wall-clock time. The
// plots and any later analysis read it; a resumed run first drops the lines of steps after
// its checkpoint (work the interrupted run did and the resumed one repeats).
import { createWriteStream, type WriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '@gpt/checkpoints/node';
import type { TrainEvent } from './events.js';

export const TRAIN_LOG_FILE = 'train.jsonl';

/** The events that are metrics (progress of the normalization estimate is not logged). */
const LOGGED: ReadonlySet<TrainEvent['type']> = new Set(['data', 'normalization', 'start', 'step', 'eval', 'checkpoint', 'done']);

export class TrainLog {
  private constructor(
    readonly file: string,
    private readonly stream: WriteStream,
  ) {}

  /**
   * Opens <dir>/train.jsonl: resuming at `resumeStep`, it keeps the lines up to that step and
   * appends; a fresh run (null) starts it empty (a run that died before its first checkpoint
   * left nothing to continue).
   */
  static async open(dir: string, resumeStep: number | null): Promise<TrainLog> {
    const file = join(dir, TRAIN_LOG_FILE);
    if (resumeStep !== null) await truncateAfter(file, resumeStep);
    const stream = createWriteStream(file, { flags: resumeStep === null ? 'w' : 'a' });
    await new Promise<void>((resolve, reject) => stream.once('open', () => resolve()).once('error', reject));
    return new TrainLog(file, stream);
  }

  write(event: TrainEvent): void {
    if (!LOGGED.has(event.type)) return;
    this.stream.write(`${JSON.stringify({ ...event, time: new Date().toISOString() })}\n`);
  }

  close(): Promise<void> {
    return new Promise((resolve, reject) => this.stream.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
}

/** Parses a train.jsonl (lines that fail to parse, e.g. a torn last line after a crash, are skipped). */
export async function readTrainLog(dir: string): Promise<Record<string, unknown>[]> {
  const text = await readFile(join(dir, TRAIN_LOG_FILE), 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '';
    throw error;
  });
  const records: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      records.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a line cut by a kill: the records before and after it are whole
    }
  }
  return records;
}

async function truncateAfter(file: string, step: number): Promise<void> {
  const records = await readTrainLog(join(file, '..'));
  const kept = records.filter((r) => !(typeof r.step === 'number' && r.step > step));
  const text = kept.map((r) => `${JSON.stringify(r)}\n`).join('');
  await writeFileAtomic(file, [new TextEncoder().encode(text)]);
}
