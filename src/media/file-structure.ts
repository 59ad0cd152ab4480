import { open, type FileHandle } from 'node:fs/promises';

/**
 * What a file's own structure says, read from its headers and chunk lengths without decoding
 * it: whether it ends where its format says it must (ffprobe reads headers and happily reports
 * a cut-off file), and whether a PNG can be transparent. Cheap on any size: a few small reads.
 */
export interface FileStructure {
  /** Why the file is cut short or malformed, when it is. */
  problem?: string;
  /** PNG only: an alpha channel (colour type 4 or 6) or a transparent colour (tRNS chunk). */
  transparent?: boolean;
}

/** Formats named as `detectFormat` names them. */
export async function readFileStructure(file: string, format: string): Promise<FileStructure> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const reader = new ByteReader(handle, size);
    switch (format) {
      case 'png':
        return await pngStructure(reader);
      case 'jpg':
        return await jpegStructure(reader);
      case 'webp':
      case 'wav':
        return await riffStructure(reader);
      case 'bmp':
        return await bmpStructure(reader);
      case 'mp4':
      case 'mov':
        return await isoBoxStructure(reader);
      default:
        // MP3 and FLAC are sequences of frames: a cut-off file is a shorter one, and ffprobe's
        // duration tells the truth about it.
        return {};
    }
  } finally {
    await handle.close();
  }
}

/** Reads through a 64 KiB window: walking thousands of small PNG chunks costs few system calls. */
class ByteReader {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(
    private readonly handle: FileHandle,
    readonly size: number,
  ) {}

  /** Reads up to `length` bytes at `position`; fewer at the end of the file. */
  async read(position: number, length: number): Promise<Buffer> {
    const end = Math.min(position + length, this.size);
    if (position < this.windowStart || end > this.windowStart + this.window.length) {
      const buffer = Buffer.alloc(Math.max(end - position, windowBytes));
      const { bytesRead } = await this.handle.read(buffer, 0, Math.min(buffer.length, Math.max(0, this.size - position)), position);
      this.window = buffer.subarray(0, bytesRead);
      this.windowStart = position;
    }
    return this.window.subarray(position - this.windowStart, Math.max(position, end) - this.windowStart);
  }
}

const windowBytes = 64 * 1024;

const cutShort = (what: string, declared: number, size: number): FileStructure => ({
  problem: `the file is cut short: ${what} needs ${declared} bytes, the file has ${size}`,
});

/** Chunks of length, type, data and CRC from byte 8 until IEND. */
async function pngStructure(reader: ByteReader): Promise<FileStructure> {
  let position = 8;
  let transparent = false;
  for (;;) {
    const header = await reader.read(position, 8 + 13);
    if (header.length < 8) return { problem: 'the file is cut short: it ends before the IEND chunk', transparent };
    const length = header.readUInt32BE(0);
    const type = header.toString('latin1', 4, 8);
    const end = position + 12 + length;
    if (end > reader.size) return { ...cutShort(`the ${type} chunk`, end, reader.size), transparent };
    if (type === 'IHDR' && header.length >= 8 + 10) {
      const colourType = header[8 + 9];
      transparent ||= colourType === 4 || colourType === 6;
    }
    if (type === 'tRNS') transparent = true;
    if (type === 'IEND') return { transparent };
    position = end;
  }
}

/**
 * A JPEG ends with the EOI marker (FF D9). Entropy-coded data never contains FF D9, so a file
 * cut inside its image data has no EOI in its tail; some writers pad after EOI, so the tail is
 * searched rather than only its last two bytes.
 */
async function jpegStructure(reader: ByteReader): Promise<FileStructure> {
  const tail = await reader.read(Math.max(2, reader.size - 64 * 1024), 64 * 1024);
  return tail.includes(Buffer.from([0xff, 0xd9])) ? {} : { problem: 'the file is cut short: the JPEG has no end-of-image marker' };
}

/** RIFF (WAV, WEBP): the size after the first 8 bytes is stated at byte 4. */
async function riffStructure(reader: ByteReader): Promise<FileStructure> {
  const header = await reader.read(0, 8);
  const declared = header.length === 8 ? header.readUInt32LE(4) : 0;
  // Streaming WAV writers leave 0 or 0xFFFFFFFF when they could not seek back to fill it in.
  if (declared === 0 || declared === 0xffffffff) return {};
  return declared + 8 > reader.size ? cutShort('the RIFF header', declared + 8, reader.size) : {};
}

/** BMP: the file size at byte 2 (0 is allowed by old writers), the pixel offset at byte 10. */
async function bmpStructure(reader: ByteReader): Promise<FileStructure> {
  const header = await reader.read(0, 14);
  if (header.length < 14) return cutShort('the bitmap header', 14, reader.size);
  const declared = header.readUInt32LE(2);
  if (declared > reader.size) return cutShort('the bitmap header', declared, reader.size);
  const pixelOffset = header.readUInt32LE(10);
  return pixelOffset >= reader.size ? { problem: 'the file is cut short: it ends before its pixels start' } : {};
}

/** MP4 and MOV: top-level boxes of size and type must tile the file, and a `moov` must be there. */
async function isoBoxStructure(reader: ByteReader): Promise<FileStructure> {
  let position = 0;
  let hasMovie = false;
  while (position < reader.size) {
    const header = await reader.read(position, 16);
    if (header.length < 8) return { problem: `the file is cut short inside a box header at byte ${position}` };
    const type = header.toString('latin1', 4, 8);
    let boxSize = header.readUInt32BE(0);
    if (boxSize === 1) {
      if (header.length < 16) return { problem: `the file is cut short inside the ${type} box header` };
      boxSize = Number(header.readBigUInt64BE(8));
    } else if (boxSize === 0) {
      boxSize = reader.size - position;
    }
    if (boxSize < 8) return { problem: `the ${type} box at byte ${position} has an impossible size ${boxSize}` };
    if (position + boxSize > reader.size) return cutShort(`the ${type} box`, position + boxSize, reader.size);
    hasMovie ||= type === 'moov';
    position += boxSize;
  }
  return hasMovie ? {} : { problem: 'the file has no moov box (its index): it is cut short or still being written' };
}
