export const packageName = '@gpt/g-pt';
export { optimize, sampleRows, samplerDiffusion, resolvePrompts, type OptimizeOptions, type OptimizeResult, type OptimizedSample, type OptimizeProgressEvent, type PromptInput, type SamplerName, type SamplerOptions } from './sample/optimize.js';
export { renderSvg, type ChartFrame, type TopLevelSpec } from './plot/render.js';
export { lineChart, lineChartSpec, type AxisScale, type LineChartOptions, type LinePoint, type LineSeries, type ReferenceLine } from './plot/line-chart.js';
export { alignmentScatter, alignmentScatterSpec, type AlignmentPoint, type AlignmentScatterOptions } from './plot/alignment-scatter.js';
export { heatmap, heatmapSpec, type HeatmapOptions, type MarkedPoint } from './plot/heatmap.js';
export { histogram, histogramSpec, type HistogramOptions, type HistogramSeries } from './plot/histogram.js';
export { imageGrid, imageGridSpec, hexColor, type GridImage, type ImageGridOptions } from './plot/image-grid.js';
export { writePlot } from './plot/write-plot.js';
