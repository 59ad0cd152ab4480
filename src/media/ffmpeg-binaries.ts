import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** Where a binary was found: the configuration, the system PATH or the bundled npm package. */
export type BinarySource = 'config' | 'system' | 'npm';

/** The ffmpeg and ffprobe this process uses, with what the ffmpeg build can do. */
export interface FfmpegToolchain {
  ffmpegPath: string;
  ffprobePath: string;
  /** ffmpeg's version word, e.g. `5.1.6-0+deb12u1` or `N-47683-g0e8eb07980-static`. */
  version: string;
  /** Where ffmpeg came from. */
  source: BinarySource;
  hasFilter(name: string): boolean;
  hasEncoder(name: string): boolean;
  /** Whether ffmpeg takes the command-line option `-name` (as listed by `ffmpeg -h long`). */
  hasOption(name: string): boolean;
}

/** Explicit locations from the configuration (`ffmpeg_path`, `ffprobe_path`); both optional. */
export interface FfmpegLocations {
  ffmpegPath?: string;
  ffprobePath?: string;
}

type Tool = 'ffmpeg' | 'ffprobe';

interface Candidate {
  path: string;
  source: BinarySource;
}

interface FfmpegFeatures {
  version: string;
  filters: ReadonlySet<string>;
  encoders: ReadonlySet<string>;
  options: ReadonlySet<string>;
}

/** Binaries answer slowly on a loaded machine; a hung one must still not block start-up for long. */
const probeTimeoutMs = 15_000;

const toolchains = new Map<string, Promise<FfmpegToolchain>>();
const featuresByPath = new Map<string, Promise<FfmpegFeatures>>();

/**
 * Finds ffmpeg and ffprobe: the configured path first, then the system's on PATH, then the
 * static builds of `@ffmpeg-installer/ffmpeg` and `@ffprobe-installer/ffprobe`. A configured path
 * that does not work is an error rather than a silent fall-back. Resolved once per set of options.
 */
export function resolveFfmpeg(locations: FfmpegLocations = {}): Promise<FfmpegToolchain> {
  const key = JSON.stringify([locations.ffmpegPath ?? null, locations.ffprobePath ?? null]);
  let toolchain = toolchains.get(key);
  if (!toolchain) {
    toolchain = buildToolchain(locations);
    toolchains.set(key, toolchain);
    toolchain.catch(() => toolchains.delete(key));
  }
  return toolchain;
}

async function buildToolchain(locations: FfmpegLocations): Promise<FfmpegToolchain> {
  const ffmpeg = await locate('ffmpeg', locations.ffmpegPath, []);
  // A configured ffmpeg usually sits next to its own ffprobe: prefer that over another build's.
  const siblings = ffmpeg.source === 'config' ? [siblingOf(ffmpeg.path, 'ffprobe')] : [];
  const ffprobe = await locate('ffprobe', locations.ffprobePath, siblings);
  const features = await ffmpegFeatures(ffmpeg.path);
  return {
    ffmpegPath: ffmpeg.path,
    ffprobePath: ffprobe.path,
    version: features.version,
    source: ffmpeg.source,
    hasFilter: (name) => features.filters.has(name),
    hasEncoder: (name) => features.encoders.has(name),
    hasOption: (name) => features.options.has(name),
  };
}

async function locate(tool: Tool, configured: string | undefined, siblings: string[]): Promise<Candidate> {
  if (configured) {
    if (await answersVersion(configured)) return { path: configured, source: 'config' };
    throw new Error(`the configured ${tool} "${configured}" does not run (tried "${configured} -version")`);
  }
  for (const sibling of siblings) {
    if (await answersVersion(sibling)) return { path: sibling, source: 'config' };
  }
  const onPath = await findOnPath(tool);
  if (onPath && (await answersVersion(onPath))) return { path: onPath, source: 'system' };
  const bundled = await npmBinary(tool);
  if (bundled && (await answersVersion(bundled))) return { path: bundled, source: 'npm' };
  throw new Error(
    `no working ${tool} found: set ${tool}_path in the configuration, install ${tool} on the PATH, ` +
      `or install the npm package ${npmPackages[tool]}`,
  );
}

function siblingOf(binary: string, tool: Tool): string {
  return path.join(path.dirname(binary), tool + path.extname(binary));
}

async function findOnPath(tool: Tool): Promise<string | undefined> {
  const name = process.platform === 'win32' ? `${tool}.exe` : tool;
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const npmPackages: Record<Tool, string> = {
  ffmpeg: '@ffmpeg-installer/ffmpeg',
  ffprobe: '@ffprobe-installer/ffprobe',
};

/** The packages throw on platforms they have no build for, so a failed import only means "none". */
async function npmBinary(tool: Tool): Promise<string | undefined> {
  try {
    const module = (await import(npmPackages[tool])) as { default?: { path?: unknown } };
    return typeof module.default?.path === 'string' ? module.default.path : undefined;
  } catch {
    return undefined;
  }
}

async function answersVersion(binary: string): Promise<boolean> {
  try {
    await execFileAsync(binary, ['-hide_banner', '-version'], { timeout: probeTimeoutMs });
    return true;
  } catch {
    return false;
  }
}

/** Version, filters and encoders of one ffmpeg binary, asked once per path. */
function ffmpegFeatures(ffmpegPath: string): Promise<FfmpegFeatures> {
  let features = featuresByPath.get(ffmpegPath);
  if (!features) {
    features = readFeatures(ffmpegPath);
    featuresByPath.set(ffmpegPath, features);
    features.catch(() => featuresByPath.delete(ffmpegPath));
  }
  return features;
}

async function readFeatures(ffmpegPath: string): Promise<FfmpegFeatures> {
  const ask = async (...options: string[]) =>
    (await execFileAsync(ffmpegPath, ['-hide_banner', ...options], { timeout: probeTimeoutMs, maxBuffer: 8 << 20 }))
      .stdout;
  const [versionText, filtersText, encodersText, helpText] = await Promise.all([
    ask('-version'),
    ask('-filters'),
    ask('-encoders'),
    ask('-h', 'long'),
  ]);
  return {
    version: /version (\S+)/.exec(versionText)?.[1] ?? 'unknown',
    filters: listedNames(filtersText, /^\s*[A-Z.|]{2,4}\s+(\w+)\s+\S*->\S*/),
    encoders: listedNames(encodersText, /^\s*[A-Z.]{6}\s+(\w+)\s/),
    // The option tables of the help: `-stats_period time  set the period at which …`, one per line.
    options: listedNames(helpText, /^-(\w+)\s/),
  };
}

/** Names from a `-filters` / `-encoders` / `-h` table: one per line, found by `line`'s first group. */
function listedNames(table: string, line: RegExp): Set<string> {
  const names = new Set<string>();
  for (const text of table.split('\n')) {
    const name = line.exec(text)?.[1];
    if (name) names.add(name);
  }
  return names;
}
