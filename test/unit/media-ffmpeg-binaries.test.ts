import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { resolveFfmpeg } from '../../src/media/ffmpeg-binaries.js';

describe('resolveFfmpeg', () => {
  test('finds a working ffmpeg and ffprobe and reads what the build can do', async () => {
    const toolchain = await resolveFfmpeg();
    assert.ok(['system', 'npm'].includes(toolchain.source), toolchain.source);
    assert.match(toolchain.ffmpegPath, /ffmpeg/);
    assert.match(toolchain.ffprobePath, /ffprobe/);
    assert.notEqual(toolchain.version, 'unknown');
    for (const name of ['zoompan', 'overlay', 'drawbox', 'geq', 'anoisesrc']) assert.ok(toolchain.hasFilter(name), name);
    assert.ok(toolchain.hasEncoder('libx264'));
    assert.ok(toolchain.hasEncoder('aac'));
    assert.equal(toolchain.hasFilter('no_such_filter'), false);
    assert.equal(toolchain.hasFilter('='), false, 'the legend of the table is not a filter');
  });

  test('reads the command-line options the build takes', async () => {
    const toolchain = await resolveFfmpeg();
    for (const name of ['progress', 'stdin', 'filter_complex', 'y']) assert.ok(toolchain.hasOption(name), name);
    assert.equal(toolchain.hasOption('no_such_option'), false);
    // The npm package's 4.1 predates -stats_period (4.4); Debian 12's 5.1 has it.
    const npmPath = ((await import('@ffmpeg-installer/ffmpeg')) as { default: { path: string } }).default.path;
    assert.equal((await resolveFfmpeg({ ffmpegPath: npmPath })).hasOption('stats_period'), false);
    assert.equal((await resolveFfmpeg({ ffmpegPath: '/usr/bin/ffmpeg' })).hasOption('stats_period'), true);
  });

  test('is resolved once for the same options', async () => {
    assert.equal(await resolveFfmpeg(), await resolveFfmpeg({}));
  });

  test('a configured path is used as configured, with the ffprobe found the usual way', async () => {
    const found = await resolveFfmpeg();
    const configured = await resolveFfmpeg({ ffmpegPath: found.ffmpegPath });
    assert.equal(configured.source, 'config');
    assert.equal(configured.ffmpegPath, found.ffmpegPath);
    assert.equal(configured.version, found.version);
  });

  test('a configured path that does not run is an error, not a silent fall-back', async () => {
    await assert.rejects(resolveFfmpeg({ ffmpegPath: '/nonexistent/ffmpeg' }), /configured ffmpeg "\/nonexistent\/ffmpeg"/);
    await assert.rejects(resolveFfmpeg({ ffprobePath: '/nonexistent/ffprobe' }), /configured ffprobe/);
  });
});
