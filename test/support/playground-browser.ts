import { existsSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type BrowserContext, chromium, type Locator, type Page } from 'playwright-core';
import { build } from 'vite';

/**
 * Drives the playground in a real browser: Debian's Chromium (`apt-get install chromium`) through
 * playwright-core, which downloads no browser of its own. Used by test/browser/ and by the script
 * that takes the screenshots of docs/playground/.
 */

const root = path.resolve(import.meta.dirname, '../..');

export const chromiumPath = process.env.WAN_TEST_CHROMIUM_PATH || '/usr/bin/chromium';

/** Why no browser test can run on this machine, or undefined when Chromium is there. */
export function browserUnavailable(): string | undefined {
  if (existsSync(chromiumPath)) return undefined;
  return `no Chromium at ${chromiumPath}: install Debian's package (apt-get install chromium) or set WAN_TEST_CHROMIUM_PATH`;
}

/** Builds web/playground into dist/playground, which the server serves: the page under test is the source's. */
export async function buildPlayground(): Promise<void> {
  await build({ configFile: path.join(root, 'web/playground/vite.config.ts'), logLevel: 'warn' });
}

/** Chromium headless with a fresh profile (removed when the browser closes) and nothing phoning out. */
export async function openBrowser(): Promise<BrowserContext> {
  const profile = mkdtempSync(path.join(tmpdir(), 'wan-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  });
  // Chromium's helpers may still be writing the profile as the browser goes: removal retries, and
  // a profile they keep writing past that is left in the temporary directory rather than failing
  // whichever test runs then.
  context.on('close', () => void rm(profile, { recursive: true, force: true, maxRetries: 20, retryDelay: 100 }).catch(() => undefined));
  return context;
}

/** The playground page, by what a person sees: labels, buttons, the progress bar. */
export class PlaygroundPage {
  constructor(
    readonly page: Page,
    readonly baseUrl: string,
  ) {}

  async open(): Promise<void> {
    await this.page.goto(`${this.baseUrl}/`);
    await this.page.locator('body[data-ready="true"]').waitFor({ timeout: 15_000 });
  }

  field(path: string): Locator {
    return this.page.getByLabel(path, { exact: true });
  }

  async pasteKey(key: string): Promise<void> {
    await this.field('API key').fill(key);
  }

  async chooseModel(id: string): Promise<void> {
    await this.field('Model').selectOption(id);
  }

  async submit(): Promise<void> {
    await this.page.getByRole('button', { name: 'Generate' }).click();
  }

  /** The error shown beside a field: the one of its accessible descriptions that is an error. */
  errorBeside(path: string): Promise<string | undefined> {
    return this.field(path).evaluate((control) => {
      const ids = (control.getAttribute('aria-describedby') ?? '').split(' ');
      const error = ids.map((id) => document.getElementById(id)).find((element) => element?.classList.contains('error'));
      return error && !error.hidden ? (error.textContent ?? '') : undefined;
    });
  }

  /** Starts recording every value the progress bar takes; `progressSeen()` answers them. */
  async recordProgress(): Promise<void> {
    await this.page.evaluate(() => {
      const bar = document.getElementById('task-progress') as HTMLProgressElement;
      const seen: number[] = [bar.value];
      new MutationObserver(() => seen.push(bar.value)).observe(bar, { attributes: true, attributeFilter: ['value'] });
      (window as unknown as { progressSeen: number[] }).progressSeen = seen;
    });
  }

  progressSeen(): Promise<number[]> {
    return this.page.evaluate(() => (window as unknown as { progressSeen: number[] }).progressSeen);
  }

  /** The video of the finished task, once the page shows it. */
  async resultVideo(timeout = 60_000): Promise<Locator> {
    const video = this.page.locator('.task-view video');
    await video.waitFor({ timeout });
    return video;
  }

  /** Drops a file on a URL field, as a person dragging it from their desktop. */
  async dropFile(path: string, file: { name: string; type: string; bytes: Buffer }): Promise<void> {
    const target = this.field(path).locator('xpath=ancestor::div[contains(@class, "drop-target")][1]');
    const dataTransfer = await this.page.evaluateHandle(
      ({ name, type, base64 }) => {
        const bytes = Uint8Array.from(atob(base64), (character) => character.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], name, { type }));
        return transfer;
      },
      { name: file.name, type: file.type, base64: file.bytes.toString('base64') },
    );
    await target.dispatchEvent('dragover', { dataTransfer });
    await target.dispatchEvent('drop', { dataTransfer });
  }
}

export interface PlayedVideo {
  readyState: number;
  duration: number;
  currentTime: number;
  width: number;
  height: number;
}

/**
 * Loads a `<video>` until it has a frame to show (readyState ≥ 2), plays it (muted, as a page may
 * without a user gesture) until its time moves, and answers what the element reports.
 */
export function playVideo(video: Locator, timeoutMs = 20_000): Promise<PlayedVideo> {
  // No named function inside: the page runs this source as it is, without tsx's helpers.
  return video.evaluate(async (element: HTMLVideoElement, timeout) => {
    const deadline = Date.now() + timeout;
    while (element.readyState < 2) {
      if (Date.now() > deadline) throw new Error(`video: readyState ${element.readyState} after ${timeout} ms (error: ${element.error?.message ?? 'none'})`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    element.muted = true;
    await element.play();
    while (element.currentTime === 0) {
      if (Date.now() > deadline) throw new Error(`video: did not play within ${timeout} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    element.pause();
    return {
      readyState: element.readyState,
      duration: element.duration,
      currentTime: element.currentTime,
      width: element.videoWidth,
      height: element.videoHeight,
    };
  }, timeoutMs);
}
