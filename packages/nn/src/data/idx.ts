// Parser for the IDX format of the MNIST distribution files: a 4-byte magic number
// (0, 0, element type code, number of dimensions), one big-endian uint32 per dimension,
// then the elements in row-major order. Bytes only (it runs in browsers); reading files
// and gunzipping the .gz downloads is idx-file.ts, in the Node entry.

const ELEMENT_TYPES: Record<number, { name: string; bytes: number }> = {
  0x08: { name: 'uint8', bytes: 1 },
  0x09: { name: 'int8', bytes: 1 },
  0x0b: { name: 'int16', bytes: 2 },
  0x0c: { name: 'int32', bytes: 4 },
  0x0d: { name: 'float32', bytes: 4 },
  0x0e: { name: 'float64', bytes: 8 },
};

export interface IdxArray {
  /** Element type: 'uint8' for MNIST. */
  type: string;
  dims: number[];
  /** The raw element bytes (big-endian for multi-byte types). */
  bytes: Uint8Array;
}

/** True for the gzip magic number (the MNIST downloads are .gz files). */
export function isGzip(data: Uint8Array): boolean {
  return data.length >= 2 && data[0] === 0x1f && data[1] === 0x8b;
}

/** Parses raw (uncompressed) IDX bytes; `file` names the source in every error. */
export function parseIdx(data: Uint8Array, file: string): IdxArray {
  if (isGzip(data)) {
    throw new Error(
      `${file}: gzip-compressed IDX data: decompress it first (readIdx of @gpt/nn/data-node does, in Node; in a browser, DecompressionStream('gzip'))`,
    );
  }
  if (data.length < 4) throw new Error(`${file}: ${data.length} bytes is too short for an IDX header`);
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const magic = view.getUint32(0);
  const type = ELEMENT_TYPES[data[2]!];
  const rank = data[3]!;
  if (data[0] !== 0 || data[1] !== 0 || !type || rank === 0) {
    throw new Error(`${file}: not an IDX file: magic number 0x${magic.toString(16).padStart(8, '0')} (expected 0x0000TTNN: two zero bytes, an element type code, a dimension count)`);
  }
  const headerBytes = 4 + 4 * rank;
  if (data.length < headerBytes) throw new Error(`${file}: truncated header: ${data.length} bytes, ${rank} dimensions need ${headerBytes}`);
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const expected = headerBytes + dims.reduce((a, b) => a * b, 1) * type.bytes;
  if (data.length !== expected) {
    throw new Error(
      `${file}: ${data.length < expected ? 'truncated' : 'trailing data'}: ${data.length} bytes, but dimensions [${dims.join(', ')}] of ${type.name} need ${expected}`,
    );
  }
  return { type: type.name, dims, bytes: data.subarray(headerBytes) };
}
