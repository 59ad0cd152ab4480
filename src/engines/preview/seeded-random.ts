/**
 * Deterministic pseudo-random numbers for the preview renderer: the same seed must give the same
 * video, so nothing here may read a clock or Math.random. Each use draws from its own `stream`
 * name, so that adding a draw to the picture never changes the soundtrack of an existing seed.
 */
export interface SeededRandom {
  /** A number in [0, 1). */
  next(): number;
  /** A number in [min, max). */
  between(min: number, max: number): number;
  /** One of `choices`. */
  pick<T>(choices: readonly T[]): T;
}

export function seededRandom(seed: number, stream: string): SeededRandom {
  let state = hashString(`${seed}:${stream}`);
  // mulberry32: tiny, fast and good enough to pick colours and frequencies.
  const next = () => {
    state = (state + 0x6d2b79f5) | 0;
    let mixed = Math.imul(state ^ (state >>> 15), 1 | state);
    mixed = (mixed + Math.imul(mixed ^ (mixed >>> 7), 61 | mixed)) ^ mixed;
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    between: (min, max) => min + (max - min) * next(),
    pick: (choices) => choices[Math.floor(next() * choices.length)],
  };
}

/** FNV-1a, to turn the seed and stream name into mulberry32's 32-bit state. */
function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash = Math.imul(hash ^ text.charCodeAt(index), 0x01000193);
  }
  return hash >>> 0;
}
