// Test helper: writes a stored (uncompressed) zip, optionally with every size and offset
// in ZIP64 form, so the reader's ZIP64 path is tested without a multi-GB file.
import { crc32 } from '../../src/pytorch/zip-reader.js';

export function makeZip(entries: readonly { name: string; data: Uint8Array }[], options: { zip64?: boolean } = {}): Uint8Array {
  const zip64 = options.zip64 ?? false;
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const push = (bytes: Uint8Array): void => {
    parts.push(bytes);
    offset += bytes.byteLength;
  };
  for (const { name, data } of entries) {
    const nameBytes = new TextEncoder().encode(name);
    const crc = crc32(data);
    const localExtra = zip64 ? 20 : 0;
    const local = new DataView(new ArrayBuffer(30 + nameBytes.length + localExtra));
    local.setUint32(0, 0x04034b50, true);
    local.setUint16(4, zip64 ? 45 : 20, true);
    local.setUint32(14, crc, true);
    local.setUint32(18, zip64 ? 0xffffffff : data.length, true);
    local.setUint32(22, zip64 ? 0xffffffff : data.length, true);
    local.setUint16(26, nameBytes.length, true);
    local.setUint16(28, localExtra, true);
    new Uint8Array(local.buffer).set(nameBytes, 30);
    if (zip64) {
      const p = 30 + nameBytes.length;
      local.setUint16(p, 1, true);
      local.setUint16(p + 2, 16, true);
      local.setBigUint64(p + 4, BigInt(data.length), true);
      local.setBigUint64(p + 12, BigInt(data.length), true);
    }
    const localOffset = offset;
    push(new Uint8Array(local.buffer));
    push(data);

    const centralExtra = zip64 ? 28 : 0;
    const entry = new DataView(new ArrayBuffer(46 + nameBytes.length + centralExtra));
    entry.setUint32(0, 0x02014b50, true);
    entry.setUint16(4, 45, true);
    entry.setUint16(6, zip64 ? 45 : 20, true);
    entry.setUint32(16, crc, true);
    entry.setUint32(20, zip64 ? 0xffffffff : data.length, true);
    entry.setUint32(24, zip64 ? 0xffffffff : data.length, true);
    entry.setUint16(28, nameBytes.length, true);
    entry.setUint16(30, centralExtra, true);
    entry.setUint32(42, zip64 ? 0xffffffff : localOffset, true);
    new Uint8Array(entry.buffer).set(nameBytes, 46);
    if (zip64) {
      const p = 46 + nameBytes.length;
      entry.setUint16(p, 1, true);
      entry.setUint16(p + 2, 24, true);
      entry.setBigUint64(p + 4, BigInt(data.length), true);
      entry.setBigUint64(p + 12, BigInt(data.length), true);
      entry.setBigUint64(p + 20, BigInt(localOffset), true);
    }
    central.push(new Uint8Array(entry.buffer));
  }
  const directoryOffset = offset;
  for (const c of central) push(c);
  const directorySize = offset - directoryOffset;
  if (zip64) {
    const record = new DataView(new ArrayBuffer(56));
    const recordOffset = offset;
    record.setUint32(0, 0x06064b50, true);
    record.setBigUint64(4, 44n, true);
    record.setUint16(12, 45, true);
    record.setUint16(14, 45, true);
    record.setBigUint64(24, BigInt(entries.length), true);
    record.setBigUint64(32, BigInt(entries.length), true);
    record.setBigUint64(40, BigInt(directorySize), true);
    record.setBigUint64(48, BigInt(directoryOffset), true);
    push(new Uint8Array(record.buffer));
    const locator = new DataView(new ArrayBuffer(20));
    locator.setUint32(0, 0x07064b50, true);
    locator.setBigUint64(8, BigInt(recordOffset), true);
    locator.setUint32(16, 1, true);
    push(new Uint8Array(locator.buffer));
  }
  const end = new DataView(new ArrayBuffer(22));
  end.setUint32(0, 0x06054b50, true);
  end.setUint16(8, zip64 ? 0xffff : entries.length, true);
  end.setUint16(10, zip64 ? 0xffff : entries.length, true);
  end.setUint32(12, zip64 ? 0xffffffff : directorySize, true);
  end.setUint32(16, zip64 ? 0xffffffff : directoryOffset, true);
  push(new Uint8Array(end.buffer));
  const out = new Uint8Array(offset);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}
