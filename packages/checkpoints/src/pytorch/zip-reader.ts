// A minimal read-only ZIP reader for PyTorch checkpoints (torch.save since 1.6 writes a
// zip of `<name>/data.pkl`, `<name>/data/<key>` storage records, `<name>/version`).
// It reads the central directory (with ZIP64, which multi-GB G.pt checkpoints need) and
// fetches records by positional reads from a ByteSource, so a 6 GB file is never loaded
// whole. Records may be stored (what torch writes) or deflated (re-zipped files).
// No Node built-in here: inflating uses the platform's DecompressionStream unless the
// caller passes its own inflater (the Node entry passes zlib's, which every Node 20 has).
//
// Hostile input: every size, count and offset of the directories is checked against the
// bytes that hold it and the file size before it is used; a record is read whole only
// when its stated size is within `maxRecordBytes` and is one deflate can reach from its
// compressed size, and inflating stops at the stated size; each local header must repeat
// its directory entry's name (a directory that points two names at one record, or at the
// directory itself, is refused). Every error is a CheckpointFormatError naming the file.
import type { ByteSource } from '../byte-source.js';
import { CheckpointFormatError } from '../errors.js';

/** Inflates a raw DEFLATE stream that should give `expectedSize` bytes (more is an error). */
export type InflateRaw = (data: Uint8Array, expectedSize: number) => Uint8Array | Promise<Uint8Array>;

export interface ZipReaderOptions {
  /** How deflated records are inflated; default: DecompressionStream('deflate-raw'). */
  readonly inflateRaw?: InflateRaw;
  /**
   * The largest record read whole (stated uncompressed size, checked before reading or
   * inflating anything). Default DEFAULT_MAX_RECORD_BYTES (2 GiB).
   */
  readonly maxRecordBytes?: number;
}

/** Default `maxRecordBytes`: bigger than any one record of a G.pt checkpoint, far below a zip bomb's claims. */
export const DEFAULT_MAX_RECORD_BYTES = 2 * 1024 ** 3;

/**
 * DEFLATE cannot expand by more than 1032:1 (a 258-byte match per 2-bit code, at best);
 * a record stating more than that for its compressed size is lying.
 */
const MAX_DEFLATE_RATIO = 1032;

export interface ZipEntry {
  readonly name: string;
  /** 0 = stored, 8 = deflate. */
  readonly method: number;
  readonly crc32: number;
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly localHeaderOffset: number;
  /** The name as stored (the local header must repeat it). */
  readonly nameBytes: Uint8Array;
}

const EOCD_SIGNATURE = 0x06054b50;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const MAX_COMMENT = 0xffff;

export class ZipReader {
  private readonly dataStarts = new Map<string, number>();
  /** Deflated records already inflated: readRange on one serves every later range from memory. */
  private readonly inflated = new Map<string, Uint8Array>();

  private constructor(
    private readonly source: ByteSource,
    readonly entries: ReadonlyMap<string, ZipEntry>,
    private readonly inflateRaw: InflateRaw,
    /** The largest record read() takes whole. */
    readonly maxRecordBytes: number,
  ) {}

  /** Names the source in errors (the file path for a file). */
  get file(): string {
    return this.source.name;
  }

  get size(): number {
    return this.source.size;
  }

  /**
   * Reads the central directory of `source`; errors name it. The reader owns the
   * source from here on: close() closes it, and so does a failed open.
   */
  static async open(source: ByteSource, options: ZipReaderOptions = {}): Promise<ZipReader> {
    try {
      const maxRecordBytes = options.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES;
      if (!(maxRecordBytes >= 0)) throw new RangeError(`ZipReader.open: maxRecordBytes must be a non-negative number, got ${maxRecordBytes}`);
      const entries = await readCentralDirectory(source);
      return new ZipReader(source, entries, options.inflateRaw ?? inflateRawWithStreams, maxRecordBytes);
    } catch (error) {
      await source.close();
      throw error;
    }
  }

  private fail(problem: string): never {
    throw new CheckpointFormatError(this.file, problem);
  }

  entry(name: string): ZipEntry {
    return this.entries.get(name) ?? this.fail(`zip record "${name}" is missing`);
  }

  // The local header repeats name and extra field with their own lengths; data follows it.
  private async dataStart(entry: ZipEntry): Promise<number> {
    const cached = this.dataStarts.get(entry.name);
    if (cached !== undefined) return cached;
    if (entry.localHeaderOffset + 30 > this.size) this.fail(`zip record "${entry.name}": local header lies beyond the end of the file`);
    const header = await this.source.read(entry.localHeaderOffset, 30);
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    if (view.getUint32(0, true) !== LOCAL_SIGNATURE) this.fail(`zip record "${entry.name}": bad local header signature`);
    const nameLength = view.getUint16(26, true);
    const start = entry.localHeaderOffset + 30 + nameLength + view.getUint16(28, true);
    if (entry.localHeaderOffset + 30 + nameLength > this.size) this.fail(`zip record "${entry.name}": local header lies beyond the end of the file`);
    // The local header repeats the name: a directory that points at someone else's record lies.
    const localName = await this.source.read(entry.localHeaderOffset + 30, nameLength);
    if (!sameBytes(localName, entry.nameBytes)) this.fail(`zip record "${entry.name}": the local header at byte ${entry.localHeaderOffset} names another record`);
    if (start + entry.compressedSize > this.size) {
      this.fail(`truncated: zip record "${entry.name}" needs bytes up to ${start + entry.compressedSize}, the file has ${this.size}`);
    }
    this.dataStarts.set(entry.name, start);
    return start;
  }

  /**
   * The whole (decompressed) record, checked against its CRC-32; refused before reading
   * when it states more than `limit` bytes (default `maxRecordBytes`).
   */
  async read(name: string, limit = this.maxRecordBytes): Promise<Uint8Array> {
    const entry = this.entry(name);
    if (entry.uncompressedSize > limit) {
      this.fail(`zip record "${name}" states ${entry.uncompressedSize} bytes, more than the ${limit}-byte limit${limit === this.maxRecordBytes ? ' (option maxRecordBytes / maxBytes)' : ''}`);
    }
    const cached = this.inflated.get(name);
    if (cached) return cached;
    const start = await this.dataStart(entry);
    const raw = await this.source.read(start, entry.compressedSize);
    const data = entry.method === 0 ? raw : await this.inflate(entry, raw);
    if (data.byteLength !== entry.uncompressedSize) this.fail(`zip record "${name}": ${data.byteLength} bytes, the directory says ${entry.uncompressedSize}`);
    if (crc32(data) !== entry.crc32) this.fail(`zip record "${name}": CRC-32 mismatch (corrupt file)`);
    if (entry.method !== 0) this.inflated.set(name, data);
    return data;
  }

  /**
   * `length` bytes at `offset` of a record. Stored records are read in place (no CRC:
   * only part of the record is read); deflated ones are read whole first.
   */
  async readRange(name: string, offset: number, length: number): Promise<Uint8Array> {
    const entry = this.entry(name);
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > entry.uncompressedSize) {
      this.fail(`zip record "${name}" has ${entry.uncompressedSize} bytes; cannot read [${offset}, ${offset + length})`);
    }
    if (offset === 0 && length === entry.uncompressedSize) return this.read(name);
    if (entry.method !== 0) return (await this.read(name)).subarray(offset, offset + length);
    return this.source.read((await this.dataStart(entry)) + offset, length);
  }

  private async inflate(entry: ZipEntry, raw: Uint8Array): Promise<Uint8Array> {
    try {
      return await this.inflateRaw(raw, entry.uncompressedSize);
    } catch (error) {
      this.fail(`zip record "${entry.name}": cannot inflate (${(error as Error).message})`);
    }
  }

  async close(): Promise<void> {
    this.inflated.clear();
    await this.source.close();
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The default InflateRaw: the platform's DecompressionStream (browsers; Node >= 20.12). */
export async function inflateRawWithStreams(data: Uint8Array, expectedSize: number): Promise<Uint8Array> {
  if (typeof DecompressionStream !== 'function') throw new Error('this platform has no DecompressionStream; pass an inflateRaw option');
  const stream = new Blob([data as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  const reader = stream.getReader();
  // Grown as data arrives: a stated size is a claim, not something to allocate up front.
  let out = new Uint8Array(Math.min(expectedSize, 1 << 16));
  let filled = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    // Stop a record that inflates past its stated size (a zip bomb) as soon as it does.
    if (filled + value.byteLength > expectedSize) {
      await reader.cancel();
      throw new Error(`inflates to more than the ${expectedSize} bytes the directory states`);
    }
    if (filled + value.byteLength > out.byteLength) {
      const grown = new Uint8Array(Math.min(expectedSize, Math.max(2 * out.byteLength, filled + value.byteLength)));
      grown.set(out.subarray(0, filled));
      out = grown;
    }
    out.set(value, filled);
    filled += value.byteLength;
  }
  return out.subarray(0, filled);
}

async function readCentralDirectory(source: ByteSource): Promise<Map<string, ZipEntry>> {
  const { name: file, size } = source;
  const fail: (problem: string) => never = (problem) => {
    throw new CheckpointFormatError(file, problem);
  };
  if (size < 22) fail(`not a zip file (${size} bytes, too short for an end-of-central-directory record)`);
  const tailLength = Math.min(size, 22 + MAX_COMMENT + 20);
  const tailStart = size - tailLength;
  const tail = await source.read(tailStart, tailLength);
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  let eocd = -1;
  for (let p = tailLength - 22; p >= 0; p--) {
    if (view.getUint32(p, true) === EOCD_SIGNATURE && p + 22 + view.getUint16(p + 20, true) === tailLength) {
      eocd = p;
      break;
    }
  }
  if (eocd < 0) fail('not a zip file (no end-of-central-directory record)');
  if (view.getUint16(eocd + 4, true) !== 0 || view.getUint16(eocd + 6, true) !== 0) fail('multi-disk zip files are not supported');
  let count = view.getUint16(eocd + 10, true);
  let directorySize = view.getUint32(eocd + 12, true);
  let directoryOffset = view.getUint32(eocd + 16, true);
  const needsZip64 = count === 0xffff || directorySize === 0xffffffff || directoryOffset === 0xffffffff;
  if (needsZip64) {
    const locator = eocd - 20;
    if (locator < 0 || view.getUint32(locator, true) !== ZIP64_LOCATOR_SIGNATURE) fail('zip64 end-of-central-directory locator is missing');
    const record64 = toSafeNumber(file, view.getBigUint64(locator + 8, true), 'zip64 record offset');
    if (view.getUint32(locator + 16, true) > 1 || view.getUint32(locator + 4, true) !== 0) fail('multi-disk zip files are not supported');
    if (record64 + 56 > size) fail('zip64 end-of-central-directory record lies beyond the end of the file');
    const record = await source.read(record64, 56);
    const z = new DataView(record.buffer, record.byteOffset, record.byteLength);
    if (z.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE) fail('bad zip64 end-of-central-directory signature');
    count = toSafeNumber(file, z.getBigUint64(32, true), 'entry count');
    directorySize = toSafeNumber(file, z.getBigUint64(40, true), 'central directory size');
    directoryOffset = toSafeNumber(file, z.getBigUint64(48, true), 'central directory offset');
  }
  if (directoryOffset + directorySize > size) fail(`truncated: the central directory ends at byte ${directoryOffset + directorySize}, the file has ${size}`);
  // Each entry takes at least 46 bytes: a count the directory cannot hold is a lie (and a loop bound).
  if (count * 46 > directorySize) fail(`the central directory of ${directorySize} bytes cannot hold the ${count} entries it states`);
  const directory = await source.read(directoryOffset, directorySize);
  return parseEntries(file, directory, count, size);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

function parseEntries(file: string, directory: Uint8Array, count: number, size: number): Map<string, ZipEntry> {
  const fail: (problem: string) => never = (problem) => {
    throw new CheckpointFormatError(file, problem);
  };
  const view = new DataView(directory.buffer, directory.byteOffset, directory.byteLength);
  const entries = new Map<string, ZipEntry>();
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > directory.byteLength || view.getUint32(p, true) !== CENTRAL_SIGNATURE) fail(`central directory entry ${i} is corrupt`);
    const flags = view.getUint16(p + 8, true);
    if (flags & 1) fail('encrypted zip records are not supported');
    const method = view.getUint16(p + 10, true);
    const nameLength = view.getUint16(p + 28, true);
    const extraLength = view.getUint16(p + 30, true);
    const commentLength = view.getUint16(p + 32, true);
    if (p + 46 + nameLength + extraLength + commentLength > directory.byteLength) fail(`central directory entry ${i} runs past the directory`);
    let name: string;
    try {
      name = UTF8.decode(directory.subarray(p + 46, p + 46 + nameLength));
    } catch {
      fail(`central directory entry ${i} has a name that is not UTF-8`);
    }
    let uncompressedSize = view.getUint32(p + 24, true);
    let compressedSize = view.getUint32(p + 20, true);
    let localHeaderOffset = view.getUint32(p + 42, true);
    // ZIP64 extra field (id 1) holds, in this order, whichever of the three fields overflowed.
    const extra = new DataView(directory.buffer, directory.byteOffset + p + 46 + nameLength, extraLength);
    for (let q = 0; q + 4 <= extraLength; ) {
      const id = extra.getUint16(q, true);
      const length = extra.getUint16(q + 2, true);
      if (q + 4 + length > extraLength) fail(`record "${name}": extra field ${id} of ${length} bytes runs past the ${extraLength}-byte extra data`);
      if (id === 1) {
        let r = q + 4;
        const next = (what: string): number => {
          if (r + 8 > q + 4 + length) fail(`record "${name}": zip64 extra field too short for the ${what}`);
          const value = toSafeNumber(file, extra.getBigUint64(r, true), what);
          r += 8;
          return value;
        };
        if (uncompressedSize === 0xffffffff) uncompressedSize = next('uncompressed size');
        if (compressedSize === 0xffffffff) compressedSize = next('compressed size');
        if (localHeaderOffset === 0xffffffff) localHeaderOffset = next('local header offset');
      }
      q += 4 + length;
    }
    if (method !== 0 && method !== 8) fail(`record "${name}" uses compression method ${method} (only stored and deflate are supported)`);
    if (localHeaderOffset + 30 + nameLength + compressedSize > size) fail(`truncated: record "${name}" lies beyond the end of the file`);
    if (method === 0 && compressedSize !== uncompressedSize) fail(`stored record "${name}" states ${uncompressedSize} bytes but holds ${compressedSize}`);
    if (method === 8 && uncompressedSize > compressedSize * MAX_DEFLATE_RATIO + 64) {
      fail(`deflated record "${name}" states ${uncompressedSize} bytes, more than its ${compressedSize} compressed bytes can inflate to`);
    }
    if (entries.has(name)) fail(`record "${name}" appears twice in the central directory`);
    const nameBytes = directory.slice(p + 46, p + 46 + nameLength);
    entries.set(name, { name, method, crc32: view.getUint32(p + 16, true), compressedSize, uncompressedSize, localHeaderOffset, nameBytes });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

function toSafeNumber(file: string, value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new CheckpointFormatError(file, `zip ${what} ${value} is too large`);
  return Number(value);
}

let crcTable: Uint32Array | undefined;

/** CRC-32 (IEEE 802.3), as zip records carry it. */
export function crc32(data: Uint8Array): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
