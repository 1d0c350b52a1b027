// Issue 12 item 3 / issue 14 item 2: the wildcard origin matcher (policies/cors/options.ts) at the edges of what
// a label may hold: every character class boundary (a-z, 0-9, '-') and the characters next to them, empty labels
// anywhere, a wildcard standing for nothing, prefix and suffix each checked on their own, and a port suffix.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { matchesWildcard, splitWildcard } from '../../policies/cors/options.js'

const W = splitWildcard('https://*.example.com')

test('splitWildcard: the text before and after the `*`', () => {
  assert.deepEqual(W, { prefix: 'https://', suffix: '.example.com' })
  assert.deepEqual(splitWildcard('http://*.a.b:8443'), { prefix: 'http://', suffix: '.a.b:8443' })
})

test('a label holds a-z, 0-9 and `-`, the ends of each range included, nothing next to them', () => {
  for (const label of ['a', 'z', '0', '9', '-', 'az09-', 'xn--bcher-kva', 'a.z', '0.9.-']) {
    assert.equal(matchesWildcard(`https://${label}.example.com`, W), true, label)
  }
  // '`' and '{' sit next to a-z, '/' and ':' next to 0-9, ',' and '.' next to '-'; upper case, '_', '@', space
  for (const c of ['`', '{', '/', ':', ',', 'A', 'Z', '_', '@', ' ', '\u00e9', '~', '*']) {
    assert.equal(matchesWildcard(`https://a${c}b.example.com`, W), false, JSON.stringify(c))
    assert.equal(matchesWildcard(`https://${c}.example.com`, W), false, JSON.stringify(c))
  }
})

test('no empty label, no missing label, prefix and suffix both required', () => {
  for (const origin of [
    'https://.example.com', 'https://a..example.com', 'https://..example.com', 'https://a.example.com.', 'https://example.com',
    'https://a.b..example.com', 'https://.a.example.com', 'http://a.example.com', 'https://a.example.co', 'https://a.example.comx',
    'xhttps://a.example.com', 'https:/a.example.com', 'httpx://a.example.com', 'http://aa.example.com', 'wss://ab.example.com', 'https://ab.example.org', 'https://ab-axample.com', '', 'https://', '.example.com',
  ]) assert.equal(matchesWildcard(origin, W), false, origin)
  assert.equal(matchesWildcard('https://a.b.c.example.com', W), true)
  const port = splitWildcard('http://*.example.com:8080')
  assert.equal(matchesWildcard('http://a.example.com:8080', port), true)
  assert.equal(matchesWildcard('http://a.example.com', port), false)
  assert.equal(matchesWildcard('http://a.example.com:80', port), false)
})
