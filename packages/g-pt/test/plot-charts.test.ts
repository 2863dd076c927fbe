// The chart functions render real SVG through Vega: each test checks that the document is
// well-formed, carries the axis titles and legend entries it was given, and draws the
// marks its data implies (one rect per heat-map cell, one pixel rect per image pixel with
// the right colour, one symbol per finite line point).
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { alignmentScatter } from '../src/plot/alignment-scatter.js';
import { baselineChart } from '../src/plot/baseline-chart.js';
import { cellEdges, heatmap } from '../src/plot/heatmap.js';
import { histogram } from '../src/plot/histogram.js';
import { hexColor, imageGrid } from '../src/plot/image-grid.js';
import { lineChart } from '../src/plot/line-chart.js';
import { writePlot } from '../src/plot/write-plot.js';

/** Checks tag balance and attribute quoting: a small well-formedness check for SVG text. */
function expectWellFormedXml(svg: string): void {
  expect(svg.startsWith('<svg')).toBe(true);
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:.-]*)((?:\s+[\w:.-]+="[^"]*")*)\s*(\/?)>/g;
  let end = 0;
  for (let m = tag.exec(svg); m; m = tag.exec(svg)) {
    const between = svg.slice(end, m.index);
    expect(between, `stray markup before <${m[2]}> at ${m.index}`).not.toMatch(/[<>]/);
    expect(between, 'unescaped ampersand').not.toMatch(/&(?![a-z]+;|#\d+;|#x[0-9a-f]+;)/i);
    end = m.index + m[0].length;
    if (m[1] === '/') expect(stack.pop(), `closing </${m[2]}>`).toBe(m[2]);
    else if (m[4] !== '/') stack.push(m[2]!);
  }
  expect(svg.slice(end).trim()).toBe('');
  expect(stack).toEqual([]);
  expect(svg).not.toContain('NaN');
}

/** Text content of every <text> element. */
function texts(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]!.replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>'));
}

/** The inner markup of the first <g class="mark-<type> ..."> group after `after` (or the first). */
function markGroups(svg: string, type: string): string[] {
  const groups: string[] = [];
  const open = new RegExp(`<g class="mark-${type} role-mark[^"]*"[^>]*>`, 'g');
  for (let m = open.exec(svg); m; m = open.exec(svg)) {
    const start = m.index + m[0].length;
    groups.push(svg.slice(start, svg.indexOf('</g>', start)));
  }
  return groups;
}

describe('lineChart', () => {
  it('draws each series with its legend entry, the axis titles and reference lines', async () => {
    const svg = await lineChart({
      title: 'G.pt vs Adam',
      xTitle: 'gradient steps',
      yTitle: 'test error (%)',
      series: [
        { name: 'Adam lr 1e-3', points: [1, 2, 4, 8].map((x) => ({ x, y: 90 - x })) },
        { name: 'SGD lr 0.1', points: [{ x: 1, y: 91 }, { x: 2, y: Number.NaN }, { x: 4, y: 80 }] },
      ],
      references: [{ label: 'one G.pt update', y: 50 }],
      xScale: 'log',
    });
    expectWellFormedXml(svg);
    const t = texts(svg);
    for (const s of ['G.pt vs Adam', 'gradient steps', 'test error (%)', 'Adam lr 1e-3', 'SGD lr 0.1', 'one G.pt update']) expect(t).toContain(s);
    const symbols = markGroups(svg, 'symbol').join('');
    expect(symbols.match(/<path/g)?.length).toBe(6); // 4 + 2 finite points; the NaN point is dropped
    expect(markGroups(svg, 'line').length).toBe(2); // one line per series
  });

  it('baselineChart: one line per baseline curve from the shared start, G.pt and the start as reference lines', async () => {
    const metric = { name: 'train_ret', label: 'training return', unit: 'return', goal: 'maximize' } as const;
    const curve = (lr: number) => ({ optimizer: 'ppo' as const, lr, steps: [1, 2, 5], meanMetric: [30, 40 * lr * 1000, 90], metrics: [] });
    const baseline = { task: 'cartpole', metric: 'train_ret', goal: 'maximize' as const, startMetric: 22, curves: [curve(3e-4), curve(1e-3)], bestLearningRate: { ppo: 1e-3 } };
    const svg = await baselineChart({ task: 'cartpole', metric, baseline, meanAfter: 25.2, meanBefore: 23.1, networks: 8, format: (v) => v.toFixed(1) });
    expectWellFormedXml(svg);
    const t = texts(svg);
    for (const s of ['cartpole: one G.pt update vs PPO iterations (mean of 8 unseen initializations)', 'PPO iterations', 'training return (return)', 'PPO lr 0.0003', 'PPO lr 0.001', 'one G.pt update (25.2)', 'initialization (23.1)']) expect(t).toContain(s);
    expect(markGroups(svg, 'line').length).toBe(2);
    const adam = { ...baseline, curves: [{ ...curve(0.01), optimizer: 'adam' as const }] };
    expect(texts(await baselineChart({ task: 'mnist', metric, baseline: adam, meanAfter: 1 }))).toContain('gradient steps');
  });

  it('refuses duplicate series names, empty input and a malformed reference line', async () => {
    await expect(lineChart({ xTitle: 'x', yTitle: 'y', series: [] })).rejects.toThrow(/series is empty/);
    await expect(lineChart({ xTitle: 'x', yTitle: 'y', series: [{ name: 'a', points: [] }, { name: 'a', points: [] }] })).rejects.toThrow(/two series are named "a"/);
    await expect(lineChart({ xTitle: 'x', yTitle: 'y', series: [{ name: 'a', points: [{ x: 0, y: 0 }] }], references: [{ label: 'r', x: 1, y: 2 }] })).rejects.toThrow(/reference line "r"/);
    await expect(lineChart({ xTitle: 'x', yTitle: 'y', width: 0, series: [{ name: 'a', points: [] }] })).rejects.toThrow(/width/);
  });
});

describe('alignmentScatter', () => {
  it('shows the y = x line, one line per network and the axis titles', async () => {
    const points = [0, 1].flatMap((n) => [5, 20, 40].map((desired) => ({ desired, observed: desired + n * 3, group: `network ${n}` })));
    const svg = await alignmentScatter({ desiredTitle: 'prompted test error (%)', observedTitle: 'achieved test error (%)', points });
    expectWellFormedXml(svg);
    const t = texts(svg);
    for (const s of ['prompted test error (%)', 'achieved test error (%)', 'network 0', 'network 1', 'y = x (perfect alignment)']) expect(t).toContain(s);
    expect(markGroups(svg, 'line').length).toBe(3); // the y = x line and one line per network
    expect(markGroups(svg, 'symbol').join('').match(/<path/g)?.length).toBe(6);
  });

  it('refuses data without a finite value', async () => {
    await expect(alignmentScatter({ desiredTitle: 'd', observedTitle: 'o', points: [{ desired: Number.NaN, observed: Infinity }] })).rejects.toThrow(/no finite/);
  });
});

describe('heatmap', () => {
  it('draws one rect per grid cell, the colour legend title and the marked points', async () => {
    const xs = [-1, 0, 1, 2];
    const ys = [-0.5, 0.5, 1.5];
    const values = ys.map((y) => xs.map((x) => x * x + y * y));
    const svg = await heatmap({ xTitle: 'PC 1', yTitle: 'PC 2', valueTitle: 'test error (%)', xs, ys, values, points: [{ x: 0, y: 0, kind: 'G.pt sample', label: 's0' }, { x: 1, y: 1, kind: 'start' }] });
    expectWellFormedXml(svg);
    const t = texts(svg);
    for (const s of ['PC 1', 'PC 2', 'test error (%)', 'G.pt sample', 'start', 's0']) expect(t).toContain(s);
    expect(markGroups(svg, 'rect')[0]!.match(/<path/g)?.length).toBe(12);
    expect(markGroups(svg, 'symbol')[0]!.match(/<path/g)?.length).toBe(2);
  });

  it('puts cell edges halfway between grid coordinates', () => {
    expect(cellEdges([0, 1, 3])).toEqual([-0.5, 0.5, 2, 4]);
    expect(cellEdges([2])).toEqual([1.5, 2.5]);
  });

  it('refuses a values grid that does not match the coordinates, naming the row', async () => {
    await expect(heatmap({ xTitle: 'x', yTitle: 'y', valueTitle: 'v', xs: [0, 1], ys: [0, 1], values: [[1, 2], [3]] })).rejects.toThrow(/values\[1\] has 1 entries, expected one per x \(2\)/);
    await expect(heatmap({ xTitle: 'x', yTitle: 'y', valueTitle: 'v', xs: [0, 0], ys: [0], values: [[1, 2]] })).rejects.toThrow(/xs must be strictly increasing/);
  });
});

describe('histogram', () => {
  it('draws bars per series on shared bins with the legend and a reference line', async () => {
    const svg = await histogram({
      xTitle: 'distance to the nearest checkpoint',
      series: [
        { name: 'G.pt samples', values: [10, 11, 12, 13] },
        { name: 'neighbouring checkpoints', values: [1, 1.5, 2, 2.5, 3, Number.NaN] },
      ],
      references: [{ label: 'median sample', x: 11.5 }],
    });
    expectWellFormedXml(svg);
    const t = texts(svg);
    for (const s of ['distance to the nearest checkpoint', 'fraction of the series', 'G.pt samples', 'neighbouring checkpoints', 'median sample']) expect(t).toContain(s);
    const bars = markGroups(svg, 'rect').join('').match(/<path/g)?.length ?? 0;
    expect(bars).toBeGreaterThanOrEqual(3); // the two samples never share a bin
  });

  it('refuses series without a finite value', async () => {
    await expect(histogram({ xTitle: 'x', series: [{ name: 'a', values: [Number.NaN] }] })).rejects.toThrow(/no finite value/);
  });
});

describe('imageGrid', () => {
  it('draws every pixel as a rect of its own colour, with captions', async () => {
    const images = [0, 1, 2].map((i) => ({ title: `filter ${i}`, height: 3, width: 3, channels: 3 as const, pixels: Array.from({ length: 27 }, (_, k) => ((k * 7 + i * 5) % 11) / 10) }));
    const svg = await imageGrid({ title: 'first-layer filters', images, columns: 2 });
    expectWellFormedXml(svg);
    const t = texts(svg);
    for (const s of ['first-layer filters', 'filter 0', 'filter 1', 'filter 2']) expect(t).toContain(s);
    const fills = markGroups(svg, 'rect').flatMap((g) => [...g.matchAll(/fill="(#[0-9a-f]{6})"/g)].map((m) => m[1]!));
    const expected = images.flatMap((image) => Array.from({ length: 9 }, (_, p) => hexColor([image.pixels[3 * p]!, image.pixels[3 * p + 1]!, image.pixels[3 * p + 2]!])));
    expect(fills.sort()).toEqual(expected.sort());
  });

  it('converts channel values to hex colours, clamping', () => {
    expect(hexColor([0, 0.5, 1])).toBe('#0080ff');
    expect(hexColor([-1, 2, Number.NaN])).toBe('#00ff00');
  });

  it('refuses pixels that do not match the stated size, naming the image', async () => {
    await expect(imageGrid({ images: [{ title: 'f', height: 3, width: 3, channels: 3, pixels: [0, 1] }] })).rejects.toThrow(/images\[0\] \("f"\) has 2 values, expected 3x3x3 = 27/);
  });
});

describe('writePlot', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gpt-plot-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes <dir>/<name>.svg, creating the folder, and refuses names with folders or non-SVG text', async () => {
    const svg = await lineChart({ xTitle: 'x', yTitle: 'y', series: [{ name: 'a', points: [{ x: 0, y: 1 }] }] });
    const path = await writePlot(join(dir, 'plots'), 'loss', svg);
    expect(path).toBe(join(dir, 'plots', 'loss.svg'));
    expect(readFileSync(path, 'utf8')).toBe(svg);
    await expect(writePlot(dir, '../escape', svg)).rejects.toThrow(/plain file name/);
    await expect(writePlot(join(dir, 'plots'), 'loss', 'not svg')).rejects.toThrow(/not SVG/);
    expect(readFileSync(path, 'utf8')).toBe(svg); // the earlier plot is intact
    expect(readdirSync(join(dir, 'plots'))).toEqual(['loss.svg']);
  });
});

describe('the chart modules are browser-neutral', () => {
  it('bundle for the browser without reaching a Node built-in', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gpt-plot-bundle-'));
    try {
      const src = fileURLToPath(new URL('../src/plot/', import.meta.url));
      const entry = join(dir, 'entry.ts');
      const modules = ['line-chart', 'alignment-scatter', 'heatmap', 'histogram', 'image-grid'];
      writeFileSync(entry, modules.map((m) => `export * from ${JSON.stringify(join(src, `${m}.ts`))};`).join('\n'));
      const found: string[] = [];
      await build({
        entryPoints: [entry],
        bundle: true,
        write: false,
        format: 'esm',
        platform: 'browser',
        conditions: ['@gpt/source'],
        logLevel: 'silent',
        plugins: [{ name: 'node-builtins', setup: (b) => b.onResolve({ filter: /.*/ }, (a) => (isBuiltin(a.path) ? (found.push(`${a.path} <- ${a.importer}`), { path: a.path, external: true }) : undefined)) }],
      });
      expect(found).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
