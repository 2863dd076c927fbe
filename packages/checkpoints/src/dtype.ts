// Element types as safetensors names them, their sizes, and copying raw little-endian
// bytes into typed arrays. Half-precision types come back as raw Uint16 bits (JS has no
// float16 array in Node 20); `toFloat32` widens them.

export type Dtype = 'F64' | 'F32' | 'F16' | 'BF16' | 'I64' | 'I32' | 'I16' | 'I8' | 'U64' | 'U32' | 'U16' | 'U8' | 'BOOL';

export const DTYPE_BYTES: Readonly<Record<Dtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U64: 8,
  U32: 4,
  U16: 2,
  U8: 1,
  BOOL: 1,
};

/** The typed array each dtype is held in (F16/BF16: raw bits; BOOL: 0/1 bytes). */
export type TypedArrayFor<D extends Dtype> = D extends 'F64'
  ? Float64Array
  : D extends 'F32'
    ? Float32Array
    : D extends 'F16' | 'BF16' | 'U16'
      ? Uint16Array
      : D extends 'I64'
        ? BigInt64Array
        : D extends 'U64'
          ? BigUint64Array
          : D extends 'I32'
            ? Int32Array
            : D extends 'U32'
              ? Uint32Array
              : D extends 'I16'
                ? Int16Array
                : D extends 'I8'
                  ? Int8Array
                  : Uint8Array;

export type AnyTypedArray =
  | Float64Array
  | Float32Array
  | Uint16Array
  | BigInt64Array
  | BigUint64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

export function isDtype(value: unknown): value is Dtype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BYTES, value);
}

// Every format here stores little-endian bytes; copying them into typed arrays is
// only correct on a little-endian host (all platforms Node supports today).
const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function assertLittleEndianHost(): void {
  if (!HOST_IS_LITTLE_ENDIAN) throw new Error('@gpt/checkpoints needs a little-endian host');
}

/**
 * Copies `bytes` (little-endian elements of `dtype`) into a fresh, aligned typed array.
 * The copy matters: a view into a file buffer would keep the whole buffer alive and may
 * be misaligned.
 */
export function typedArrayFromBytes(dtype: Dtype, bytes: Uint8Array): AnyTypedArray {
  assertLittleEndianHost();
  const size = DTYPE_BYTES[dtype];
  if (bytes.byteLength % size !== 0) {
    throw new RangeError(`${bytes.byteLength} bytes is not a whole number of ${dtype} elements`);
  }
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return viewOfBytes(dtype, copy.buffer, 0, bytes.byteLength / size);
}

/** A typed view (no copy) of `length` elements at `byteOffset` (must be aligned). */
export function viewOfBytes(dtype: Dtype, buffer: ArrayBufferLike, byteOffset: number, length: number): AnyTypedArray {
  switch (dtype) {
    case 'F64':
      return new Float64Array(buffer, byteOffset, length);
    case 'F32':
      return new Float32Array(buffer, byteOffset, length);
    case 'F16':
    case 'BF16':
    case 'U16':
      return new Uint16Array(buffer, byteOffset, length);
    case 'I64':
      return new BigInt64Array(buffer, byteOffset, length);
    case 'U64':
      return new BigUint64Array(buffer, byteOffset, length);
    case 'I32':
      return new Int32Array(buffer, byteOffset, length);
    case 'U32':
      return new Uint32Array(buffer, byteOffset, length);
    case 'I16':
      return new Int16Array(buffer, byteOffset, length);
    case 'I8':
      return new Int8Array(buffer, byteOffset, length);
    case 'U8':
    case 'BOOL':
      return new Uint8Array(buffer, byteOffset, length);
  }
}

/** The bytes of a typed array, without copying. */
export function bytesOf(data: ArrayBufferView): Uint8Array {
  assertLittleEndianHost();
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** IEEE-754 half-precision bits to a number (exact: every float16 is a float32). */
export function float16BitsToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24; // subnormal or zero
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** bfloat16 bits to a number: the top half of a float32. */
export function bfloat16BitsToNumber(bits: number): number {
  const scratch = new Uint32Array([bits << 16]);
  return new Float32Array(scratch.buffer)[0]!;
}

/**
 * Widens any numeric typed array of `dtype` to float32 (F16/BF16 decoded from bits).
 * Integers beyond 2^24 lose precision, as they would in PyTorch's `.float()`.
 */
export function toFloat32(dtype: Dtype, data: AnyTypedArray): Float32Array {
  if (dtype === 'F32') return data as Float32Array;
  const out = new Float32Array(data.length);
  if (dtype === 'F16' || dtype === 'BF16') {
    const decode = dtype === 'F16' ? float16BitsToNumber : bfloat16BitsToNumber;
    const bits = data as Uint16Array;
    for (let i = 0; i < bits.length; i++) out[i] = decode(bits[i]!);
    return out;
  }
  for (let i = 0; i < data.length; i++) out[i] = Number(data[i]!);
  return out;
}
