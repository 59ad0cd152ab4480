import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import type { ModelId } from '../../src/models/model.js';
import { announceEveryMs, QueuedAnnouncements } from '../../src/store/postgres/queued-announcements.js';

const t2v = 'wan2.7-t2v' as ModelId;
const i2v = 'wan2.7-i2v' as ModelId;

/** Announcements on a clock the test moves, recording what was announced apart from the groups. */
function announcements(fail = false) {
  let now = 1_000_000;
  const announced: ModelId[][] = [];
  const subject = new QueuedAnnouncements(async (models) => {
    announced.push(models);
    if (fail) throw new Error('the database is unreachable');
  }, () => now);
  return { subject, announced, advance: (ms: number) => (now += ms) };
}

test('a group announces itself unless its models were announced less than announceEveryMs ago', () => {
  const { subject, advance } = announcements();
  assert.equal(subject.announcesNow([t2v]), true, 'the first group of a model');
  advance(announceEveryMs - 1);
  assert.equal(subject.announcesNow([t2v]), false, 'within the window');
  assert.equal(subject.announcesNow([t2v, i2v]), true, 'a model not announced yet takes the whole group');
  advance(announceEveryMs);
  assert.equal(subject.announcesNow([t2v]), true, 'after the window');
});

test('models committed without announcing are announced once, together, at the end of their window, not before', async () => {
  const { subject, announced, advance } = announcements();
  subject.announcesNow([t2v, i2v]);
  advance(2);
  subject.committed([t2v], false);
  subject.committed([t2v, i2v], false);
  assert.deepEqual(announced, [], 'not before their commit is a window old');
  advance(announceEveryMs);
  await sleep(announceEveryMs * 3);
  assert.deepEqual(announced, [[t2v, i2v]]);
  assert.equal(subject.announcesNow([t2v]), false, 'the window starts again at that announcement');
});

test('a group that announces itself settles what its models owed once it commits them, and only then', async () => {
  const { subject, announced, advance } = announcements();
  subject.announcesNow([t2v]);
  subject.committed([t2v], false);
  advance(announceEveryMs);
  assert.equal(subject.announcesNow([t2v]), true);
  subject.committed([t2v], true);
  await sleep(announceEveryMs * 3);
  assert.deepEqual(announced, [], 'its own notification said it');

  subject.committed([i2v], false);
  assert.equal(subject.announcesNow([i2v]), true);
  subject.committed([], true); // refused: nothing stored, nothing announced
  advance(announceEveryMs);
  await sleep(announceEveryMs * 3);
  assert.deepEqual(announced, [[i2v]], 'what it owed is still announced');
});

test('an announcement that fails is dropped without an unhandled rejection, and later ones go on', async () => {
  const { subject, announced, advance } = announcements(true);
  subject.announcesNow([t2v]);
  subject.committed([t2v], false);
  advance(announceEveryMs);
  await sleep(announceEveryMs * 3);
  subject.committed([t2v], false);
  advance(announceEveryMs);
  await sleep(announceEveryMs * 3);
  assert.deepEqual(announced, [[t2v], [t2v]]);
});
