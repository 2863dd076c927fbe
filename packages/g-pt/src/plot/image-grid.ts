// A grid of small images drawn as rect marks, one facet per image: the 16 first-layer 3x3
// RGB filters of the CIFAR-10 CNN along a latent walk (gpt-paper.md §5.5), or any small
// greyscale/RGB arrays.
import { frameFields, renderSvg, requireNonEmpty, SHARED_FIELDS, type TopLevelSpec } from './render.js';

export interface GridImage {
  /** Caption under the image. */
  readonly title: string;
  readonly height: number;
  readonly width: number;
  /** 1 (grey) or 3 (RGB). */
  readonly channels: 1 | 3;
  /** Values in [0, 1], row-major, channels last: [height, width, channels]. Clamped. */
  readonly pixels: ArrayLike<number>;
}

export interface ImageGridOptions {
  readonly title?: string;
  readonly images: readonly GridImage[];
  /** Images per row (default 8). */
  readonly columns?: number;
  /** Side of one pixel on screen (default 12). */
  readonly pixelSize?: number;
}

/** The Vega-Lite spec: a faceted rect chart whose colours are literal (scale null). */
export function imageGridSpec(options: ImageGridOptions): TopLevelSpec {
  requireNonEmpty('imageGrid', 'images', options.images);
  const rows = options.images.flatMap((image, index) => pixelRows(image, index));
  const first = options.images[0]!;
  const pixelSize = options.pixelSize ?? 12;
  const { $schema } = frameFields({});
  const titles = options.images.map((image) => image.title);
  if (new Set(titles).size !== titles.length) throw new Error('imageGrid: image titles must differ (each names one facet)');
  return {
    $schema,
    ...SHARED_FIELDS,
    ...(options.title === undefined ? {} : { title: options.title }),
    data: { values: rows },
    columns: options.columns ?? 8,
    facet: { field: 'image', type: 'ordinal', sort: titles, header: { title: null, labelOrient: 'bottom', labelFontSize: 10 } },
    spacing: 6,
    spec: {
      width: first.width * pixelSize,
      height: first.height * pixelSize,
      mark: { type: 'rect', strokeWidth: 0 },
      encoding: {
        x: { field: 'col', type: 'ordinal', axis: null },
        y: { field: 'row', type: 'ordinal', axis: null },
        color: { field: 'color', type: 'nominal', scale: null },
      },
    },
  } as TopLevelSpec;
}

export async function imageGrid(options: ImageGridOptions): Promise<string> {
  return renderSvg(imageGridSpec(options));
}

function pixelRows(image: GridImage, index: number): { image: string; row: number; col: number; color: string }[] {
  const { height, width, channels, pixels } = image;
  if (!Number.isInteger(height) || !Number.isInteger(width) || height <= 0 || width <= 0) {
    throw new Error(`imageGrid: images[${index}] ("${image.title}") has size ${height}x${width}; expected positive integers`);
  }
  if (pixels.length !== height * width * channels) {
    throw new Error(`imageGrid: images[${index}] ("${image.title}") has ${pixels.length} values, expected ${height}x${width}x${channels} = ${height * width * channels}`);
  }
  const rows = [];
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const at = (r * width + c) * channels;
      const rgb = channels === 3 ? [pixels[at]!, pixels[at + 1]!, pixels[at + 2]!] : [pixels[at]!, pixels[at]!, pixels[at]!];
      rows.push({ image: image.title, row: r, col: c, color: hexColor(rgb) });
    }
  }
  return rows;
}

/** "#rrggbb" of [0, 1] channel values (clamped; NaN is black). */
export function hexColor(rgb: readonly number[]): string {
  return `#${rgb.map((v) => Math.round(Math.min(1, Math.max(0, Number.isNaN(v) ? 0 : v)) * 255).toString(16).padStart(2, '0')).join('')}`;
}
