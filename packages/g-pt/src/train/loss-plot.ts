// The loss curves of a run, drawn from its train.jsonl (so a resumed run plots its whole
// history): the training loss of every step, and the held-out loss of each evaluation, on a
// log axis. trainGpt writes it as <out>/loss.svg when the run ends.
import { lineChart, type LinePoint, type LineSeries } from '../plot/line-chart.js';
import { writePlot } from '../plot/write-plot.js';
import { readTrainLog } from './train-log.js';

export const LOSS_PLOT_NAME = 'loss';

/** The training and held-out loss series of a log's records (steps of a resumed run appear once). */
export function lossSeries(records: readonly Record<string, unknown>[]): LineSeries[] {
  const train = new Map<number, number>();
  const heldOut = new Map<number, number>();
  for (const record of records) {
    const step = record.step;
    if (typeof step !== 'number') continue;
    if (record.type === 'step' && typeof record.loss === 'number') train.set(step, record.loss);
    if (record.type === 'eval' && typeof record.heldOutLoss === 'number') heldOut.set(step, record.heldOutLoss);
  }
  const points = (values: Map<number, number>): LinePoint[] => [...values].sort((a, b) => a[0] - b[0]).map(([x, y]) => ({ x, y }));
  const series: LineSeries[] = [];
  if (train.size > 0) series.push({ name: 'training loss (batch)', points: points(train) });
  if (heldOut.size > 0) series.push({ name: 'held-out loss (test runs)', points: points(heldOut) });
  return series;
}

/** Writes <dir>/loss.svg from <dir>/train.jsonl; returns its path, or null when the log holds no loss yet. */
export async function writeLossPlot(dir: string, title = 'G.pt training'): Promise<string | null> {
  const series = lossSeries(await readTrainLog(dir));
  if (series.length === 0) return null;
  const svg = await lineChart({ title, xTitle: 'step', yTitle: 'diffusion loss (MSE on x0)', yScale: 'log', series, points: false, legendTitle: 'loss' });
  return writePlot(dir, LOSS_PLOT_NAME, svg);
}
