// Parser for the IDX format of the MNIST distribution files: a 4-byte magic number
// (0, 0, element type code, number of dimensions), one big-endian uint32 per dimension,
// then the elements in row-major order. Bytes only (it runs in browsers); reading files
// and gunzipping the .gz downloads is idx-file.ts, in the Node entry.
//
// The header alone fixes the file's size, so readers check it first (idxHeader) and never
// read, inflate or allocate more than it promises, nor more than `maxBytes`.

import { DataFileError } from './data-file-error.js';

const ELEMENT_TYPES: Record<number, { name: string; bytes: number }> = {
  0x08: { name: 'uint8', bytes: 1 },
  0x09: { name: 'int8', bytes: 1 },
  0x0b: { name: 'int16', bytes: 2 },
  0x0c: { name: 'int32', bytes: 4 },
  0x0d: { name: 'float32', bytes: 4 },
  0x0e: { name: 'float64', bytes: 8 },
};

/**
 * Default limit on an IDX file's (inflated) size: 256 MiB, over 5 times MNIST's largest
 * file (47 MB). Pass `maxBytes` for larger IDX datasets.
 */
export const DEFAULT_MAX_IDX_BYTES = 256 * 2 ** 20;

export interface IdxOptions {
  /** Refuse files whose header promises more bytes than this. Default DEFAULT_MAX_IDX_BYTES. */
  maxBytes?: number;
}

export interface IdxArray {
  /** Element type: 'uint8' for MNIST. */
  type: string;
  dims: number[];
  /** The raw element bytes (big-endian for multi-byte types). */
  bytes: Uint8Array;
}

/** What an IDX header says: the element type, the dimensions and the exact file size. */
export interface IdxHeader {
  readonly type: string;
  readonly dims: number[];
  readonly headerBytes: number;
  /** Header plus elements: the only valid size of the whole file. */
  readonly fileBytes: number;
}

/** True for the gzip magic number (the MNIST downloads are .gz files). */
export function isGzip(data: Uint8Array): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
}

export function checkMaxBytes(maxBytes: number | undefined, where: string): number {
  const max = maxBytes ?? DEFAULT_MAX_IDX_BYTES;
  if (!(Number.isSafeInteger(max) && max > 0)) throw new RangeError(`${where}: maxBytes must be a positive integer, got ${max}`);
  return max;
}

/**
 * Parses the header at the start of `data` (the first bytes of the file are enough), or
 * returns undefined when `data` is too short to hold it yet. Throws a DataFileError naming
 * `file` when the header is invalid or promises more than `maxBytes`.
 */
export function idxHeader(data: Uint8Array, file: string, maxBytes = DEFAULT_MAX_IDX_BYTES): IdxHeader | undefined {
  if (data.length < 4) return undefined;
  const type = ELEMENT_TYPES[data[2]!];
  const rank = data[3]!;
  if (data[0] !== 0 || data[1] !== 0 || !type || rank === 0) {
    const magic = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
    throw new DataFileError(file, `not an IDX file: magic number 0x${magic.toString(16).padStart(8, '0')} (expected 0x0000TTNN: two zero bytes, an element type code, a dimension count)`);
  }
  const headerBytes = 4 + 4 * rank;
  if (data.length < headerBytes) return undefined;
  const view = new DataView(data.buffer, data.byteOffset, headerBytes);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  // Multiply step by step, stopping past the limit: the product of 255 uint32 dimensions
  // would overflow a double long before it could be compared.
  let elementBytes = dims.includes(0) ? 0 : type.bytes;
  for (const d of dims) {
    elementBytes *= d;
    if (headerBytes + elementBytes > maxBytes) {
      throw new DataFileError(file, `dimensions [${dims.join(', ')}] of ${type.name} promise more than the ${maxBytes}-byte limit (maxBytes)`);
    }
  }
  return { type: type.name, dims, headerBytes, fileBytes: headerBytes + elementBytes };
}

/** The size check of a whole file against its header, as an error naming the file. */
export function idxSizeError(file: string, header: IdxHeader, actual: number): DataFileError {
  return new DataFileError(
    file,
    `${actual < header.fileBytes ? 'truncated' : 'trailing data'}: ${actual} bytes, but dimensions [${header.dims.join(', ')}] of ${header.type} need ${header.fileBytes}`,
  );
}

/** Parses raw (uncompressed) IDX bytes; `file` names the source in every error. */
export function parseIdx(data: Uint8Array, file: string, options: IdxOptions = {}): IdxArray {
  const maxBytes = checkMaxBytes(options.maxBytes, 'parseIdx');
  if (isGzip(data)) {
    throw new DataFileError(
      file,
      `gzip-compressed IDX data: decompress it first (readIdx of @gpt/nn/data-node does, in Node; in a browser, DecompressionStream('gzip'))`,
    );
  }
  if (data.length < 4) throw new DataFileError(file, `${data.length} bytes is too short for an IDX header`);
  const header = idxHeader(data, file, maxBytes);
  if (!header) throw new DataFileError(file, `truncated header: ${data.length} bytes, ${data[3]} dimensions need ${4 + 4 * data[3]!}`);
  if (data.length !== header.fileBytes) throw idxSizeError(file, header, data.length);
  return { type: header.type, dims: header.dims, bytes: data.subarray(header.headerBytes) };
}
