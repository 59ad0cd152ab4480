import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressPolicy } from '../../src/net/address-policy.js';

const defaults = new AddressPolicy();

function refusal(policy: AddressPolicy, address: string, host = 'media.example'): string | undefined {
  const verdict = policy.check(host, address);
  return verdict.allowed ? undefined : verdict.why;
}

test('every non-public class of address is refused, saying which class it is', () => {
  const refused: Array<[string, RegExp]> = [
    ['127.0.0.1', /^127\.0\.0\.1 is a loopback address$/],
    ['::1', /^::1 is a loopback address$/],
    ['10.0.0.1', /private/],
    ['172.16.5.4', /private/],
    ['192.168.1.1', /private/],
    ['169.254.169.254', /link-local/],
    ['fe80::1', /link-local/],
    ['100.64.0.1', /carrier-grade NAT/],
    ['224.0.0.1', /multicast/],
    ['ff02::1', /multicast/],
    ['0.0.0.0', /unspecified/],
    ['::', /unspecified/],
    ['255.255.255.255', /broadcast/],
    ['240.0.0.1', /reserved/],
    ['192.0.2.1', /reserved/],
    ['2001:db8::1', /reserved/],
    ['fc00::1', /unique-local/],
    ['fd12::1', /unique-local/],
    ['::ffff:127.0.0.1', /^::ffff:127\.0\.0\.1 \(IPv4 127\.0\.0\.1\) is a loopback address$/],
    ['::ffff:10.0.0.1', /\(IPv4 10\.0\.0\.1\) is a private address$/],
    ['::ffff:0:7f00:1', /IPv4-translated/],
    ['64:ff9b::7f00:1', /NAT64/],
    ['2002:7f00:1::', /6to4/],
    ['2001::1', /Teredo/],
    ['::7f00:1', /IPv4-compatible/],
    ['198.18.0.1', /reserved/],
  ];
  for (const [address, why] of refused) {
    const verdict = refusal(defaults, address);
    assert.ok(verdict, `${address} must be refused`);
    assert.match(verdict, why, address);
  }
});

test('public unicast addresses are accepted, IPv4-mapped ones judged by their IPv4 address', () => {
  for (const address of ['93.184.216.34', '2606:4700::1111', '8.8.8.8', '::ffff:93.184.216.34']) {
    assert.deepEqual(defaults.check('media.example', address), { allowed: true }, address);
  }
});

test('what is not an IP address is refused, including shorthand forms', () => {
  assert.equal(refusal(defaults, 'media.example'), 'media.example is not an IP address');
  assert.equal(refusal(defaults, '127.1'), '127.1 is not an IP address');
});

test('an allowed host skips the address check, by exact name and without case', () => {
  const policy = new AddressPolicy({ allowHosts: ['Assets.Internal', ' [::1] '] });
  assert.deepEqual(policy.check('assets.internal', '10.0.0.5'), { allowed: true });
  assert.deepEqual(policy.check('ASSETS.INTERNAL.', '127.0.0.1'), { allowed: true }, 'a trailing root dot is the same name');
  assert.deepEqual(policy.check('[::1]', '::1'), { allowed: true });
  assert.match(refusal(policy, '10.0.0.5', 'cdn.assets.internal') ?? '', /private/, 'subdomains are not included');
  assert.match(refusal(policy, '10.0.0.5', 'assets.internal.evil') ?? '', /private/);
});

test('an allowed range accepts only the addresses inside it', () => {
  const policy = new AddressPolicy({ allowRanges: ['10.1.0.0/16', '127.0.0.1/32', '::1/128', ''] });
  assert.deepEqual(policy.check('a', '10.1.200.3'), { allowed: true });
  assert.deepEqual(policy.check('a', '127.0.0.1'), { allowed: true });
  assert.deepEqual(policy.check('a', '::ffff:127.0.0.1'), { allowed: true }, 'the mapped form reaches the same address');
  assert.deepEqual(policy.check('a', '::1'), { allowed: true });
  assert.match(refusal(policy, '10.2.0.1') ?? '', /private/);
  assert.match(refusal(policy, '127.0.0.2') ?? '', /loopback/);
  assert.deepEqual(policy.check('a', '93.184.216.34'), { allowed: true }, 'public addresses stay allowed');
});

test('a range that is not CIDR is refused at construction, naming it', () => {
  for (const range of ['10.1.0.0', '10.1/16', '10.0.0.0/33', 'not-a-range', '::1/129']) {
    assert.throws(
      () => new AddressPolicy({ allowRanges: [range] }),
      (error: Error) => error.message.includes(`"${range}"`),
      range,
    );
  }
});
