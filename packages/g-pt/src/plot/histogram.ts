// Histograms of one or more samples on shared bins, each normalized to fractions of its own
// size so that samples of very different sizes compare (e.g. 64 generated vectors against
// thousands of neighbouring-checkpoint distances in the novelty check).
import { referenceLayers, type ReferenceLine } from './line-chart.js';
import { frameFields, renderSvg, requireNonEmpty, type ChartFrame, type TopLevelSpec } from './render.js';

export interface HistogramSeries {
  /** Legend entry. */
  readonly name: string;
  readonly values: readonly number[];
}

export interface HistogramOptions extends ChartFrame {
  readonly xTitle: string;
  readonly series: readonly HistogramSeries[];
  /** Upper bound on the number of bins (Vega picks nice bin edges; default 30). */
  readonly maxBins?: number;
  /** Vertical lines, e.g. medians. */
  readonly references?: readonly Omit<ReferenceLine, 'y'>[];
}

/** The Vega-Lite spec: bins over all finite values, bars per series as fractions, overlaid translucently. */
export function histogramSpec(options: HistogramOptions): TopLevelSpec {
  requireNonEmpty('histogram', 'series', options.series);
  const names = options.series.map((s) => s.name);
  if (new Set(names).size !== names.length) throw new Error('histogram: series names must differ (they are the legend entries)');
  const rows = options.series.flatMap((s) => s.values.filter(Number.isFinite).map((value) => ({ series: s.name, value })));
  if (rows.length === 0) throw new Error('histogram: no finite value to plot');
  const bars = {
    data: { values: rows },
    transform: [
      { bin: { maxbins: options.maxBins ?? 30 }, field: 'value', as: ['bin_start', 'bin_end'] },
      { aggregate: [{ op: 'count', as: 'count' }], groupby: ['series', 'bin_start', 'bin_end'] },
      { joinaggregate: [{ op: 'sum', field: 'count', as: 'total' }], groupby: ['series'] },
      { calculate: 'datum.count / datum.total', as: 'fraction' },
    ],
    mark: { type: 'bar', opacity: 0.6, binSpacing: 0 },
    encoding: {
      x: { field: 'bin_start', type: 'quantitative', title: options.xTitle, bin: { binned: true } },
      x2: { field: 'bin_end' },
      y: { field: 'fraction', type: 'quantitative', title: 'fraction of the series', stack: null },
      color: { field: 'series', type: 'nominal', title: 'series', sort: names },
    },
  };
  return { ...frameFields(options), layer: [bars, ...referenceLayers(options.references ?? [])] } as TopLevelSpec;
}

export async function histogram(options: HistogramOptions): Promise<string> {
  return renderSvg(histogramSpec(options));
}
