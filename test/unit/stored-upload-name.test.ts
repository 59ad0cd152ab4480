import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { v7 as uuidv7 } from 'uuid';
import { isValidBlobKey } from '../../src/blobs/blob-key.js';
import { storedUploadName } from '../../src/media/stored-upload-name.js';
import { uploadKeyPrefix } from '../../src/media/uploaded-media-source.js';
import { contentTypeOfName, mediaFormats } from '../../src/models/media-formats.js';

/** Replay a failure with the seed the test prints: WAN_UPLOAD_NAME_SEED=<seed>. */
const seed = process.env.WAN_UPLOAD_NAME_SEED ? Number(process.env.WAN_UPLOAD_NAME_SEED) : Math.floor(Math.random() * 2 ** 31);

test('a client picks a readable name; the stored one keeps its letters and takes the extension of the bytes', () => {
  assert.equal(storedUploadName('my holiday photo.jpg', 'png'), 'my-holiday-photo.png');
  assert.equal(storedUploadName(undefined, 'mp4'), 'upload.mp4');
  assert.equal(storedUploadName('../../etc/passwd', 'wav'), 'passwd.wav');
  assert.equal(storedUploadName('C:\\Users\\me\\take 2.mov', 'mp4'), 'take-2.mp4');
  // Dots the extension's removal leaves at the end would meet the new extension's dot.
  assert.equal(storedUploadName('0..', 'png'), '0.png');
  assert.equal(storedUploadName('clip...v2..', 'mov'), 'clip.v2.mov');
  assert.equal(storedUploadName('...', 'flac'), 'upload.flac');
});

test(`whatever name a client sends, the upload's key is one every blob store takes, with the type of its bytes (seed ${seed})`, () => {
  const extensions = Object.keys(mediaFormats);
  const nameParts = fc.constantFrom('.', '..', '/', '\\', '-', '_', ' ', '%2e', 'a', 'Z', '0', 'é', '\u0000', '\u202e', '😀');
  const names = fc.oneof(fc.string({ maxLength: 300 }), fc.array(nameParts, { maxLength: 60 }).map((parts) => parts.join('')));
  fc.assert(
    fc.property(fc.option(names, { nil: undefined }), fc.constantFrom(...extensions), (name, extension) => {
      const key = `${uploadKeyPrefix}${uuidv7()}/${storedUploadName(name, extension)}`;
      assert.ok(isValidBlobKey(key), `${JSON.stringify(name)} gives the invalid key ${JSON.stringify(key)}`);
      assert.equal(contentTypeOfName(key), mediaFormats[extension as keyof typeof mediaFormats].contentType);
    }),
    { seed, numRuns: 5000 },
  );
});
