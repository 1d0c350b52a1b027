// Process settings: file + flags, typed values, unknown keys refused, trusted-proxy CIDRs.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_SETTINGS, loadSettings, SettingsError, trustedProxyList } from '../../config/settings.js'

test('defaults: admin on loopback, edge limits set', () => {
  const s = loadSettings(undefined)
  assert.equal(s.admin, '127.0.0.1:9901')
  assert.equal(s.maxHeaderBytes, 16 * 1024)
  assert.deepEqual(s, DEFAULT_SETTINGS)
})

test('a YAML file is read and flags override it; durations and sizes are typed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-settings-'))
  const f = join(dir, 'gw.yaml')
  writeFileSync(f, 'listen: 127.0.0.1:8081\nheadersTimeoutMs: 5s\nmaxHeaderBytes: 8KB\ntrustedProxies: [10.0.0.0/8, "::1"]\naccessLog: false\n')
  const s = loadSettings(f, { listen: '127.0.0.1:9000' })
  assert.equal(s.listen, '127.0.0.1:9000')
  assert.equal(s.headersTimeoutMs, 5000)
  assert.equal(s.maxHeaderBytes, 8192)
  assert.deepEqual(s.trustedProxies, ['10.0.0.0/8', '::1'])
  assert.equal(s.accessLog, false)
})

test('mistakes are errors, never silent defaults', () => {
  assert.throws(() => loadSettings(undefined, { lissten: '1.2.3.4:5' }), SettingsError)
  assert.throws(() => loadSettings(undefined, { headersTimeoutMs: '10' }), /duration/)
  assert.throws(() => loadSettings(undefined, { listen: 'nope' }), /host:port/)
  assert.throws(() => loadSettings(undefined, { trustedProxies: '10.0.0.0/33' }), /prefix/)
  assert.throws(() => loadSettings(undefined, { redisUrl: 'http://x' }), /redis:\/\//)
})

test('trusted proxies match IPv4, IPv4-mapped IPv6 and IPv6 peers', () => {
  const l = trustedProxyList(['10.0.0.0/8', '2001:db8::/32'])
  assert.ok(l.check('10.1.2.3', 'ipv4'))
  assert.ok(l.check('::ffff:10.1.2.3', 'ipv6'))
  assert.ok(l.check('2001:db8::1', 'ipv6'))
  assert.ok(!l.check('11.0.0.1', 'ipv4'))
  assert.ok(!l.check('::ffff:11.0.0.1', 'ipv6'))
})
