// test/runtime/upstream-header-strings.test.ts: headerStrings (runtime/upstream/pool.ts), the one place a tunnel
// reads an upstream's 101 header lines whichever pool answered: gw's http1 pool gives strings, undici's (engine
// node) gives Buffers. Pinned directly because the mutation runs use the default engine (strings only).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { headerStrings } from '../../runtime/upstream/pool.js'

test('strings are returned as given (the same array, no copy); an empty list too', () => {
  const s = ['upgrade', 'websocket', 'x-v', 'caf\xe9']
  assert.equal(headerStrings(s), s)
  const none: string[] = []
  assert.equal(headerStrings(none), none)
})

test('Buffers are read as latin1: an obs-text byte stays one character, as the http1 pool reads it', () => {
  const raw = [Buffer.from('Upgrade'), Buffer.from('websocket'), Buffer.from('x-v'), Buffer.from([0x63, 0x61, 0x66, 0xe9])]
  assert.deepEqual(headerStrings(raw), ['Upgrade', 'websocket', 'x-v', 'caf\xe9'])
})
