// Reader and writer for the safetensors format (huggingface/safetensors, "Format"):
//   8 bytes    N, little-endian u64: length of the header
//   N bytes    UTF-8 JSON object {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {str: str}},
//              starting with '{', optionally padded at the end with spaces
//   the rest   the byte buffer; offsets are relative to its start, C order, little-endian.
// The reference implementation also demands that the tensors cover the byte buffer
// exactly (no holes, no overlap) and caps the header at 100 MB; we check the same, so
// a file we accept is one Python's `safetensors` accepts, and the other way round.
// This file is the byte codec (no Node built-in: it runs in browsers too); reading and
// writing files is safetensors-file.ts, in the Node entry.
//
// Untrusted files: the length prefix is compared as a u64 against the file size before
// anything is read; every entry's dtype, shape and offsets are checked (sizes as exact
// integers), the tensors must tile the data exactly, and their total is capped by
// `maxBytes` before any tensor is read. Names are data, never object keys: tensors live in
// Maps and metadata in a null-prototype object, so `__proto__` or `constructor` round-trip
// like any other name and a lookup never returns something inherited.
import { CheckpointFormatError } from './errors.js';
import { DTYPE_BYTES, type AnyTypedArray, type Dtype, bytesOf, isDtype, typedArrayFromBytes } from './dtype.js';

/** Same cap as the reference implementation: a larger header is a corrupt file, not a big model. */
export const MAX_HEADER_BYTES = 100_000_000;
const ALIGNMENT = 8; // we pad headers so the byte buffer starts 8-byte aligned (as the reference writer does)

/** Default `maxBytes` of the safetensors readers: the tensor data of one file. */
export const DEFAULT_MAX_SAFETENSORS_BYTES = 4 * 1024 ** 3;

export interface SafetensorsReadOptions {
  /**
   * The most tensor bytes a file may hold (the sum of its tensors, checked on the header
   * before any tensor is read). Default DEFAULT_MAX_SAFETENSORS_BYTES (4 GiB) for the
   * readers that load every tensor (decodeSafetensors, readSafetensors); no limit for the
   * header-only ones (parseSafetensorsHeader, readSafetensorsHeader), which allocate none.
   */
  readonly maxBytes?: number;
}

export interface SafetensorsEntry {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** Byte range inside the byte buffer (relative to `dataStart`). */
  readonly begin: number;
  readonly end: number;
}

export interface SafetensorsHeader {
  readonly file: string;
  /** Absolute file offset of the byte buffer (8 + N). */
  readonly dataStart: number;
  readonly fileSize: number;
  /** Entries in header order. */
  readonly entries: readonly SafetensorsEntry[];
  readonly byName: ReadonlyMap<string, SafetensorsEntry>;
  readonly metadata: Readonly<Record<string, string>>;
}

export interface SafetensorsTensor {
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  readonly data: AnyTypedArray;
}

export interface SafetensorsInput {
  readonly name: string;
  readonly dtype: Dtype;
  readonly shape: readonly number[];
  /** Elements in C order; its byte length must equal numel × dtype size. */
  readonly data: ArrayBufferView;
}

/** A value from the header as JSON, cut short: a hostile header can hold megabytes in one field. */
function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 120 ? `${text.slice(0, 100)}... (${text.length} characters)` : text;
}

function fail(file: string, problem: string): never {
  throw new CheckpointFormatError(file, problem);
}

export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Validates the 8-byte length prefix against the file size; returns N. */
export function parseHeaderLength(file: string, prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || prefix.byteLength < 8) {
    fail(file, `truncated safetensors file: ${fileSize} bytes, too short for the 8-byte header length`);
  }
  const view = new DataView(prefix.buffer, prefix.byteOffset, 8);
  const length = view.getBigUint64(0, true);
  if (length > BigInt(fileSize - 8)) {
    fail(file, `safetensors header length ${length} goes beyond the end of the file (${fileSize} bytes): truncated or not a safetensors file`);
  }
  if (length > BigInt(MAX_HEADER_BYTES)) {
    fail(file, `safetensors header length ${length} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (length < 2n) fail(file, `safetensors header length ${length} is too short for a JSON object`);
  return Number(length);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses and validates the JSON header (`headerBytes` = the N bytes after the prefix).
 * `maxBytes` (default: none, nothing is allocated here) caps the tensors' total.
 */
export function parseSafetensorsHeader(file: string, headerBytes: Uint8Array, fileSize: number, options: SafetensorsReadOptions = {}): SafetensorsHeader {
  const maxBytes = options.maxBytes ?? Infinity;
  if (!(maxBytes >= 0)) throw new RangeError(`safetensors: maxBytes must be a non-negative number, got ${maxBytes}`);
  const dataStart = 8 + headerBytes.byteLength;
  if (headerBytes[0] !== 0x7b) fail(file, `safetensors header does not start with '{'`);
  let text: string;
  try {
    text = UTF8.decode(headerBytes);
  } catch {
    fail(file, 'safetensors header is not valid UTF-8');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    fail(file, `safetensors header is not valid JSON (${(error as Error).message})`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) fail(file, 'safetensors header is not a JSON object');

  let metadata: Record<string, string> = Object.create(null);
  const entries: SafetensorsEntry[] = [];
  let total = 0;
  // JSON.parse makes every key an own property, "__proto__" included; Object.entries sees them all.
  for (const [name, value] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(file, value);
      continue;
    }
    const entry = parseEntry(file, name, value);
    total += entry.end - entry.begin;
    if (total > maxBytes) fail(file, `the tensors need more than ${maxBytes} bytes (the limit, option maxBytes)`);
    entries.push(entry);
  }
  checkCoverage(file, entries, fileSize - dataStart);
  return { file, dataStart, fileSize, entries, byName: new Map(entries.map((e) => [e.name, e])), metadata };
}

function parseMetadata(file: string, value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(file, `safetensors __metadata__ is not an object`);
  const out: Record<string, string> = Object.create(null);
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') fail(file, `safetensors __metadata__[${shown(key)}] is not a string`);
    out[key] = v;
  }
  return out;
}

function parseEntry(file: string, name: string, value: unknown): SafetensorsEntry {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(file, `tensor ${shown(name)}: header entry is not an object`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (!isDtype(dtype)) fail(file, `tensor ${shown(name)}: unsupported or unknown dtype ${shown(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && (d as number) >= 0)) {
    fail(file, `tensor ${shown(name)}: shape ${shown(shape)} is not a list of non-negative integers`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && (o as number) >= 0)) {
    fail(file, `tensor ${shown(name)}: data_offsets ${shown(offsets)} is not a pair of non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) fail(file, `tensor ${shown(name)}: data_offsets [${begin}, ${end}] end before they begin`);
  const numel = numelOf(shape as number[]);
  const expected = numel * DTYPE_BYTES[dtype];
  if (!Number.isSafeInteger(expected) || expected !== end - begin) {
    fail(file, `tensor ${shown(name)}: ${dtype}${shown(shape)} needs ${expected} bytes but data_offsets span ${end - begin}`);
  }
  return { name, dtype, shape: shape as number[], begin, end };
}

// The byte buffer must be covered exactly, in any order of entries, with no holes.
function checkCoverage(file: string, entries: readonly SafetensorsEntry[], bufferBytes: number): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let position = 0;
  let previous = '(start of data)';
  for (const entry of sorted) {
    if (entry.begin > position) fail(file, `${entry.begin - position} bytes between ${previous} and tensor ${shown(entry.name)} belong to no tensor`);
    if (entry.begin < position) fail(file, `tensor ${shown(entry.name)} overlaps ${previous}`);
    position = entry.end;
    previous = `tensor ${shown(entry.name)}`;
  }
  if (position > bufferBytes) {
    fail(file, `truncated: the header describes ${position} bytes of tensor data but the file holds only ${bufferBytes}`);
  }
  if (position < bufferBytes) fail(file, `${bufferBytes - position} trailing bytes after the last tensor belong to no tensor`);
}

/** Decodes a safetensors file held in memory (`file` only names it in errors). */
export function decodeSafetensors(
  file: string,
  bytes: Uint8Array,
  options: SafetensorsReadOptions = {},
): { header: SafetensorsHeader; tensors: Map<string, SafetensorsTensor> } {
  if (!(bytes instanceof Uint8Array)) throw new TypeError(`decodeSafetensors (${file}): expected a Uint8Array, got ${bytes === null ? 'null' : typeof bytes}`);
  const length = parseHeaderLength(file, bytes.subarray(0, 8), bytes.byteLength);
  const header = parseSafetensorsHeader(file, bytes.subarray(8, 8 + length), bytes.byteLength, { maxBytes: options.maxBytes ?? DEFAULT_MAX_SAFETENSORS_BYTES });
  const tensors = new Map<string, SafetensorsTensor>();
  for (const e of header.entries) {
    const raw = bytes.subarray(header.dataStart + e.begin, header.dataStart + e.end);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data: typedArrayFromBytes(e.dtype, raw) });
  }
  return { header, tensors };
}

/**
 * Encodes tensors (in the given order, packed back to back) into the chunks of a
 * safetensors file: [prefix+header, data...]. The data chunks are views of the inputs,
 * so nothing large is copied.
 */
export function encodeSafetensors(tensors: readonly SafetensorsInput[], metadata: Readonly<Record<string, string>> = {}): Uint8Array[] {
  // Null prototype: assigning "__proto__" makes an own key (JSON.stringify writes it)
  // instead of replacing the prototype and dropping the tensor.
  const header: Record<string, unknown> = Object.create(null);
  const meta: Record<string, string> = Object.create(null);
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new TypeError(`safetensors: __metadata__[${JSON.stringify(key)}] must be a string, got ${typeof value}`);
    meta[key] = value;
  }
  if (Object.keys(meta).length > 0) header.__metadata__ = meta;
  const seen = new Set<string>();
  let offset = 0;
  for (const t of tensors) {
    if (typeof t.name !== 'string' || t.name === '__metadata__' || seen.has(t.name)) throw new Error(`safetensors: invalid or duplicate tensor name ${JSON.stringify(t.name)}`);
    seen.add(t.name);
    if (!isDtype(t.dtype)) throw new TypeError(`safetensors: tensor ${JSON.stringify(t.name)} has unknown dtype ${JSON.stringify(t.dtype)}`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new TypeError(`safetensors: tensor ${JSON.stringify(t.name)} shape ${JSON.stringify(t.shape)} is not a list of non-negative integers`);
    }
    const bytes = numelOf(t.shape) * DTYPE_BYTES[t.dtype];
    if (t.data.byteLength !== bytes) {
      throw new Error(`safetensors: tensor "${t.name}" ${t.dtype}${JSON.stringify(t.shape)} needs ${bytes} bytes, got ${t.data.byteLength}`);
    }
    header[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.byteLength / ALIGNMENT) * ALIGNMENT;
  const head = new Uint8Array(8 + padded).fill(0x20, 8 + json.byteLength);
  new DataView(head.buffer).setBigUint64(0, BigInt(padded), true);
  head.set(json, 8);
  return [head, ...tensors.map((t) => bytesOf(t.data))];
}
