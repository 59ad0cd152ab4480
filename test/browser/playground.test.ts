import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startE2eEnvironment } from '../support/e2e-environment.js';
import { browserUnavailable, buildPlayground, openBrowser, PlaygroundPage, playVideo } from '../support/playground-browser.js';
import { tempDir } from '../support/temp-dir.js';

/**
 * The playground in a real browser against the real server process: the page is built from
 * web/playground, served at `/`, and driven by what a person sees (labels, buttons). Without
 * Chromium the file is skipped, saying how to install it; in CI (CI=true) it fails instead.
 */

const root = path.resolve(import.meta.dirname, '../..');
const unavailable = browserUnavailable();
const inCi = process.env.CI === 'true';

/** The page built, the server started with a key and fixture media, Chromium opened; once per file. */
async function startSession() {
  await buildPlayground();
  const environment = await startE2eEnvironment();
  const browser = await openBrowser();
  after(() => browser.close());
  await browser.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: environment.server.url });
  return { environment, browser };
}

const session = unavailable === undefined ? await startSession() : undefined;

describe('the playground in Chromium', { skip: unavailable !== undefined && !inCi ? unavailable : false }, () => {
  const { environment, browser } = session ?? ({} as NonNullable<typeof session>);
  /** Tasks the page created, for the task list. */
  const created: string[] = [];

  before(() => {
    if (unavailable) throw new Error(`${unavailable} (CI=true: the browser tests must run, not be skipped)`);
  });

  async function openPlayground(): Promise<PlaygroundPage> {
    const playground = new PlaygroundPage(await browser.newPage(), environment.server.url);
    await playground.open();
    return playground;
  }

  /** What the server answers to a request of the test itself (not the page's). */
  async function api(pathAndQuery: string, init: RequestInit = {}): Promise<{ status: number; body: any }> {
    const response = await fetch(`${environment.server.url}${pathAndQuery}`, {
      ...init,
      headers: { authorization: `Bearer ${environment.key}`, 'content-type': 'application/json', ...init.headers },
    });
    return { status: response.status, body: await response.json() };
  }

  test('GET / serves the built page, which no other site may frame; unknown paths stay API errors', async () => {
    const page = await fetch(`${environment.server.url}/`);
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    const html = await page.text();
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, 'the page loads its script by a relative URL');
    const asset = await fetch(`${environment.server.url}/${script}`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers.get('cache-control') ?? '', /immutable/);
    const missing = await fetch(`${environment.server.url}/v3/no-such-api`);
    assert.equal(missing.status, 404);
    assert.equal((await missing.json()).reason, 'API_NOT_FOUND');
  });

  test('the form is generated from /openapi.json: every model, its fields, enums, defaults, limits and help', async () => {
    const playground = await openPlayground();
    const openapi = (await api('/openapi.json')).body;
    const modelIds = Object.keys(openapi.paths)
      .map((route: string) => /^\/v3\/async\/(wan[^/]+)$/.exec(route)?.[1])
      .filter(Boolean);
    const offered = await playground.field('Model').locator('option').evaluateAll((options) => options.map((option) => (option as HTMLOptionElement).value));
    assert.deepEqual(offered, modelIds);

    const t2v = openapi.components.schemas.Wan27T2vRequest.properties;
    const sizes = await playground.field('size').locator('option').allTextContents();
    assert.deepEqual(sizes, t2v.size.enum);
    assert.equal(await playground.field('size').inputValue(), t2v.size.default);
    const duration = playground.field('duration');
    assert.equal(await duration.inputValue(), String(t2v.duration.default));
    assert.equal(await duration.getAttribute('min'), String(t2v.duration.minimum));
    assert.equal(await duration.getAttribute('max'), String(t2v.duration.maximum));
    assert.equal(await playground.field('watermark').isChecked(), t2v.watermark.default);
    assert.equal(await playground.field('prompt_extend').isChecked(), t2v.prompt_extend.default);
    const durationHelp = await duration.evaluate((input) => input.getAttribute('aria-describedby')!.split(' ').map((id) => document.getElementById(id)?.textContent ?? '').join(' '));
    assert.ok(durationHelp.includes(t2v.duration.description), durationHelp);
    assert.ok(durationHelp.includes('2 to 15'), durationHelp);
    assert.ok(await playground.page.getByLabel('upload a file for audio_url').count(), 'a URL field takes a file');

    await playground.chooseModel('wan2.7-r2v');
    assert.deepEqual(await playground.field('media[0].type').locator('option').allTextContents(), ['reference_image', 'reference_video', 'first_frame']);
    await playground.page.getByRole('button', { name: 'Add an item to media' }).click();
    await playground.field('media[1].url').fill('https://example.com/b.mp4');
    await playground.page.getByRole('button', { name: 'Remove media[0]' }).click();
    assert.equal(await playground.field('media[0].url').inputValue(), 'https://example.com/b.mp4', 'items are numbered again after a removal');
  });

  test('a t2v task: the key is kept, the progress bar moves, the video plays, and the copied curl and wan commands work', async () => {
    const playground = await openPlayground();
    const { page } = playground;
    await playground.pasteKey(environment.key);
    await page.reload();
    await page.locator('body[data-ready="true"]').waitFor();
    assert.equal(await playground.field('API key').inputValue(), environment.key, 'the key is kept in the browser');

    await playground.chooseModel('wan2.7-t2v');
    await playground.field('prompt').fill("A paper boat drifting down a rainy street, it's late");
    await playground.field('size').selectOption('1280*720');
    await playground.field('duration').fill('2');
    await playground.field('seed').fill('42');
    await playground.recordProgress();
    await playground.submit();

    const video = await playground.resultVideo();
    const seen = await playground.progressSeen();
    assert.ok(new Set(seen).size >= 2, `the progress bar moved: ${seen.join(' → ')}`);
    assert.equal(seen.at(-1), 100, `it ends full: ${seen.join(' → ')}`);
    assert.ok(seen.some((value) => value < 100), `it showed the task before it ended: ${seen.join(' → ')}`);
    assert.deepEqual([...seen].sort((a, b) => a - b), seen, `it never goes back: ${seen.join(' → ')}`);
    const streams = (await api('/v3/async/task-events?task_id=none')).body.reason !== 'API_NOT_FOUND';
    const note = await page.locator('.task-view .note').first().textContent();
    assert.match(note ?? '', streams ? /status stream/ : /read every second/);

    const played = await playVideo(video);
    assert.ok(played.readyState >= 2, `readyState ${played.readyState}`);
    assert.ok(Math.abs(played.duration - 2) < 0.2, `duration ${played.duration}`);
    assert.ok(played.currentTime > 0, 'the video played');
    assert.deepEqual([played.width, played.height], [1280, 720]);

    const taskId = (await page.locator('.task-view h2 code').textContent())!;
    created.push(taskId);
    const result = (await api(`/v3/async/task-result?task_id=${taskId}`)).body;
    assert.equal(result.task.status, 'TASK_STATUS_SUCCEED');
    assert.equal(result.extra.seed, '42');
    const download = page.getByRole('link', { name: 'Download' });
    assert.equal(await download.getAttribute('download'), `${taskId}.mp4`);
    assert.equal(new URL((await download.getAttribute('href'))!).pathname, new URL(result.videos[0].video_url).pathname);

    await page.getByRole('button', { name: 'Copy as curl' }).click();
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    assert.equal(curl, await page.getByLabel('curl command').textContent());
    await page.getByRole('button', { name: 'Copy as wan command' }).click();
    const wan = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(wan, /^wan t2v 'A paper boat drifting down a rainy street, it'\\''s late' --size '1280\*720' --duration 2 --seed 42 --api-url http:\/\/127\.0\.0\.1:\d+$/);

    // Both commands run as a shell runs them, with the key in $WAN_API_KEY, and create a task.
    const bin = tempDir();
    writeFileSync(path.join(bin, 'wan'), `#!/bin/sh\nexec "${process.execPath}" --import tsx "${path.join(root, 'src/cli/main.ts')}" "$@"\n`);
    chmodSync(path.join(bin, 'wan'), 0o755);
    const shell = (command: string) =>
      promisify(execFile)('sh', ['-c', command], { cwd: root, env: { ...process.env, WAN_API_KEY: environment.key, PATH: `${bin}:${process.env.PATH}` } });
    const fromCurl = JSON.parse((await shell(curl)).stdout).task_id;
    const fromWan = (await shell(wan)).stdout.trim();
    for (const id of [fromCurl, fromWan]) assert.equal((await api(`/v3/async/task-result?task_id=${id}`)).status, 200, `task ${id} exists`);
    await page.close();
  });

  test('validation errors are shown beside the field they name, nested ones too, and nothing is sent for malformed JSON', async () => {
    const playground = await openPlayground();
    await playground.chooseModel('wan2.7-t2v');
    await playground.field('prompt').fill('A paper boat');
    await playground.field('duration').fill('99');
    await playground.submit();
    await playground.page.locator('[aria-invalid="true"]').first().waitFor();
    assert.equal(await playground.errorBeside('duration'), 'duration must be an integer between 2 and 15, got 99');
    assert.equal(await playground.field('duration').getAttribute('aria-invalid'), 'true');
    assert.equal(await playground.errorBeside('prompt'), undefined);

    await playground.chooseModel('wan2.7-r2v');
    await playground.field('prompt').fill('character1 waves');
    await playground.field('media[0].url').fill('not a url');
    await playground.submit();
    await playground.page.locator('[aria-invalid="true"]').first().waitFor();
    assert.equal(await playground.errorBeside('media[0].url'), 'media[0].url must be an http(s) URL, got "not a url"');

    await playground.field('media[0].url').fill('https://example.com/a.png');
    await playground.field('extra').fill('{"webhook": ');
    await playground.submit();
    await playground.page.locator('[aria-invalid="true"]').first().waitFor();
    assert.match((await playground.errorBeside('extra')) ?? '', /^extra is not valid JSON/);
    assert.equal(await playground.errorBeside('media[0].url'), undefined, 'an error goes once it is fixed');
    assert.equal(await playground.page.locator('.task-view').isHidden(), true, 'no task was created');
    await playground.page.close();
  });

  test('a local file dropped on a URL field is uploaded through /v3/uploads and an i2v task runs from it', async () => {
    const playground = await openPlayground();
    await playground.chooseModel('wan2.7-i2v');
    await playground.field('prompt').fill('The paper boat sails away');
    await playground.dropFile('image_url', {
      name: 'square.png',
      type: 'image/png',
      bytes: readFileSync(path.join(environment.mediaDir, 'square.png')),
    });
    const uploadsPrefix = `${environment.server.url}/v3/files/uploads/`;
    await playground.page.waitForFunction(
      (prefix) => (document.querySelector('input[name="image_url"]') as HTMLInputElement).value.startsWith(prefix),
      uploadsPrefix,
    );
    assert.match(await playground.page.locator('.field .status:not([hidden])').first().textContent() ?? '', /square\.png uploaded/);
    await playground.field('resolution').selectOption('720P');
    await playground.field('duration').fill('2');
    await playground.submit();

    const played = await playVideo(await playground.resultVideo());
    assert.ok(played.readyState >= 2 && played.currentTime > 0);
    assert.ok(Math.abs(played.duration - 2) < 0.2, `duration ${played.duration}`);
    assert.equal(played.width, played.height, 'a square first frame gives a square video');
    created.push((await playground.page.locator('.task-view h2 code').textContent())!);
    await playground.page.close();
  });

  test("the task list shows the key's tasks with status and a thumbnail of each video", async () => {
    assert.ok(created.length >= 2, 'the tests above created tasks');
    const playground = await openPlayground();
    await playground.page.getByRole('button', { name: 'Tasks' }).click();
    const listed = (await api('/v3/async/tasks')).status === 200;
    const note = playground.page.locator('.task-list .note');
    if (listed) assert.equal(await note.textContent(), '');
    else assert.match((await note.textContent()) ?? '', /does not list tasks .* submitted from this browser/);
    for (const taskId of created) {
      const row = playground.page.locator(`tr[data-task-id="${taskId}"]`);
      await row.waitFor();
      assert.match((await row.locator('td.task-state').textContent()) ?? '', /^Succeeded/);
      const thumbnail = row.locator('video');
      assert.equal(await thumbnail.getAttribute('preload'), 'metadata');
      await playground.page.waitForFunction((video) => (video as HTMLVideoElement).readyState >= 1, await thumbnail.elementHandle(), { timeout: 15_000 });
      assert.equal(await row.getByRole('button', { name: /^Cancel/ }).count(), 0, 'a finished task cannot be cancelled');
    }
    await playground.page.close();
  });

  test('a running task is cancelled from its progress view and from the list, or the page says the server cannot', async () => {
    const cancels = (await api('/v3/async/task-cancel', { method: 'POST', body: JSON.stringify({ task_id: 'none' }) })).body.reason !== 'API_NOT_FOUND';
    const playground = await openPlayground();
    const { page } = playground;
    await playground.chooseModel('wan2.7-t2v');
    await playground.field('prompt').fill('A long take of the harbour');
    await playground.field('size').selectOption('1280*720');
    await playground.field('duration').fill('15');
    await playground.submit();
    await page.getByRole('button', { name: 'Cancel task' }).click();
    const taskId = (await page.locator('.task-view h2 code').textContent())!;
    const row = page.locator(`tr[data-task-id="${taskId}"]`);
    if (cancels) {
      await page.locator('.task-view .failure').waitFor();
      assert.match((await page.locator('.task-view .failure').textContent()) ?? '', /cancelled.*TASK_CANCELLED/);
      await page.getByRole('button', { name: 'Tasks' }).click();
      await row.waitFor();
      assert.match((await row.locator('td.task-state').textContent()) ?? '', /^Failed.*cancelled/);
      assert.equal(await row.getByRole('button', { name: /^Cancel/ }).count(), 0);
    } else {
      // The task goes on; the list offers to cancel it while it runs, and says why it cannot.
      await page.getByText('This server cannot cancel tasks').waitFor();
      await page.getByRole('button', { name: 'Tasks' }).click();
      await row.getByRole('button', { name: `Cancel task ${taskId}` }).click();
      await page.locator('.task-list .failure', { hasText: 'This server cannot cancel tasks' }).waitFor();
    }
    await page.close();
  });
});
