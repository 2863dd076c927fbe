// The "one G.pt update vs N optimizer steps" chart: the mean metric of every baseline curve
// (Adam/SGD steps or PPO iterations, eval/gradient-baseline.ts and eval/ppo-baseline.ts)
// from the shared start, with the G.pt result (and optionally the start) as reference lines.
import type { BaselineOptimizerName, GradientBaselineReport, GradientCurve } from '../eval/gradient-baseline.js';
import type { TaskMetric } from '../tasks/task.js';
import { lineChart, type AxisScale, type LineSeries, type ReferenceLine } from './line-chart.js';

/** Legend names of the baselines. */
export const BASELINE_NAMES: Readonly<Record<BaselineOptimizerName, string>> = { adam: 'Adam', sgd: 'SGD', ppo: 'PPO' };

export interface BaselineChartOptions {
  /** Task name for the title. */
  readonly task: string;
  readonly metric: TaskMetric;
  readonly baseline: GradientBaselineReport;
  /** The curves to draw (default all of the baseline's). */
  readonly curves?: readonly GradientCurve[];
  /** Mean metric after one G.pt update. */
  readonly meanAfter: number;
  /** Mean metric of the starting networks, drawn as a second reference line when given. */
  readonly meanBefore?: number;
  /** Starting networks, named in the title when given. */
  readonly networks?: number;
  readonly yScale?: AxisScale;
  /** Formats the reference values in the legend (default 3 decimals). */
  readonly format?: (value: number) => string;
}

/** The chart as SVG text. */
export function baselineChart(options: BaselineChartOptions): Promise<string> {
  const { baseline, metric, meanAfter, meanBefore, format = (v: number) => v.toFixed(3) } = options;
  const curves = options.curves ?? baseline.curves;
  const series: LineSeries[] = curves.map((c) => ({
    name: `${BASELINE_NAMES[c.optimizer]} lr ${c.lr}`,
    points: [{ x: 0, y: baseline.startMetric }, ...c.steps.map((x, k) => ({ x, y: c.meanMetric[k]! }))],
  }));
  const xTitle = curves.every((c) => c.optimizer === 'ppo') ? 'PPO iterations' : 'gradient steps';
  const references: ReferenceLine[] = [{ label: `one G.pt update (${format(meanAfter)})`, y: meanAfter }];
  if (meanBefore !== undefined) references.push({ label: `initialization (${format(meanBefore)})`, y: meanBefore });
  const networks = options.networks === undefined ? '' : ` (mean of ${options.networks} unseen initializations)`;
  return lineChart({
    title: `${options.task}: one G.pt update vs ${xTitle}${networks}`,
    xTitle,
    yTitle: `${metric.label}${metric.unit ? ` (${metric.unit})` : ''}`,
    series,
    references,
    legendTitle: 'method',
    points: false,
    ...(options.yScale ? { yScale: options.yScale } : {}),
  });
}
