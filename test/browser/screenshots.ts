import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startE2eEnvironment } from '../support/e2e-environment.js';
import { browserUnavailable, buildPlayground, openBrowser, PlaygroundPage, playVideo } from '../support/playground-browser.js';

/**
 * `npm run docs:screenshots`: one screenshot of each screen of the playground, for
 * docs/playground.md, taken from the real server and Chromium as the browser test drives them.
 * (A node:test file so the server and browser are stopped however it ends; not part of `npm test`.)
 */

const outDir = path.resolve(import.meta.dirname, '../../docs/playground');

test('screenshots of the playground: form, validation error, progress, finished video, task list, upload', async () => {
  const unavailable = browserUnavailable();
  if (unavailable) assert.fail(unavailable);
  mkdirSync(outDir, { recursive: true });
  await buildPlayground();
  const environment = await startE2eEnvironment();
  const browser = await openBrowser();
  try {
    const playground = new PlaygroundPage(await browser.newPage(), environment.server.url);
    const { page } = playground;
    const shot = (name: string, fullPage = false) => page.screenshot({ path: path.join(outDir, `${name}.png`), fullPage });
    await playground.open();
    await playground.pasteKey(environment.key);
    await playground.chooseModel('wan2.7-t2v');
    await playground.field('prompt').fill('A paper boat drifting down a rainy street at dusk');
    await playground.field('size').selectOption('1280*720');
    await shot('form', true);

    await playground.field('duration').fill('20');
    await playground.submit();
    await page.locator('[aria-invalid="true"]').first().waitFor();
    await playground.field('duration').scrollIntoViewIfNeeded();
    await shot('validation-error');

    // A long, large render, so that the bar is caught half-way.
    await playground.field('size').selectOption('1920*1080');
    await playground.field('duration').fill('10');
    await playground.submit();
    await page.waitForFunction(() => {
      const bar = document.getElementById('task-progress') as HTMLProgressElement | null;
      return bar !== null && bar.value > 0 && bar.value < 100;
    }, undefined, { timeout: 60_000 });
    await page.locator('.task-view').scrollIntoViewIfNeeded();
    await shot('progress');

    const video = await playground.resultVideo(120_000);
    await playVideo(video);
    await video.evaluate((element: HTMLVideoElement) => {
      element.currentTime = 2;
    });
    await page.waitForFunction((element) => (element as HTMLVideoElement).readyState >= 2 && !(element as HTMLVideoElement).seeking, await video.elementHandle());
    await page.locator('.task-view').scrollIntoViewIfNeeded();
    await shot('video', true);

    // The list with a task of each state: one running (with its cancel button), one failed.
    await playground.chooseModel('wan2.7-i2v');
    await playground.field('image_url').fill(environment.media.url('voice.wav'));
    await playground.field('duration').fill('2');
    await playground.submit();
    await page.locator('.task-view .failure').waitFor({ timeout: 60_000 });
    await playground.chooseModel('wan2.7-t2v');
    await playground.field('prompt').fill('A slow pan across the harbour at night');
    await playground.field('duration').fill('15');
    await playground.submit();
    await page.getByRole('button', { name: 'Cancel task' }).waitFor();
    await page.getByRole('button', { name: 'Tasks' }).click();
    await page.locator('.task-list tr', { hasText: 'Processing' }).waitFor();
    const thumbnails = page.locator('.task-list video');
    await thumbnails.first().waitFor();
    await page.waitForFunction(
      () => [...document.querySelectorAll<HTMLVideoElement>('.task-list video')].every((element) => element.readyState >= 2),
      undefined,
      { timeout: 30_000 },
    );
    await shot('tasks');
    // Uploads in the form: a file dropped on a URL field.
    await page.getByRole('button', { name: 'New task' }).click();
    await playground.chooseModel('wan2.7-i2v');
    await playground.field('prompt').fill('The paper boat sails away');
    await playground.dropFile('image_url', { name: 'square.png', type: 'image/png', bytes: readFileSync(path.join(environment.mediaDir, 'square.png')) });
    await page.getByText('square.png uploaded').waitFor();
    await playground.field('image_url').scrollIntoViewIfNeeded();
    await shot('upload');
  } finally {
    await browser.close();
  }
});
