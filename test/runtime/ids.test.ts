// Request ids and W3C trace context rules.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { formatTraceparent, newRequestId, newSpanId, parseTraceparent, saneRequestId } from '../../runtime/ids.js'

test('generated request ids are unique and sane', () => {
  const ids = new Set(Array.from({ length: 10_000 }, newRequestId))
  assert.equal(ids.size, 10_000)
  for (const id of [...ids].slice(0, 100)) assert.ok(saneRequestId(id), id)
})

test('client request ids are kept only when short and plain', () => {
  for (const ok of ['abc', 'a.b-c_d:e@f', 'x'.repeat(128)]) assert.ok(saneRequestId(ok), ok)
  for (const bad of ['', 'x'.repeat(129), 'a b', 'a"b', 'a\nb', 'é', undefined]) assert.ok(!saneRequestId(bad), String(bad))
})

test('a valid traceparent keeps its trace id and flags', () => {
  const t = parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
  assert.deepEqual(t, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', parentId: '00f067aa0ba902b7', flags: '01', propagated: true })
  // future versions may carry more fields
  assert.equal(parseTraceparent('cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra').propagated, true)
})

test('invalid traceparents start a fresh trace', () => {
  for (const bad of [
    undefined, '', 'garbage', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7',
    'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // version ff is invalid
    '00-00000000000000000000000000000000-00f067aa0ba902b7-01', // all-zero trace id
    '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // all-zero parent id
    '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', // upper case
    '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra', // version 00 has no extra fields
  ]) {
    const t = parseTraceparent(bad)
    assert.equal(t.propagated, false, String(bad))
    assert.match(t.traceId, /^[0-9a-f]{32}$/)
    assert.notEqual(t.traceId, '4bf92f3577b34da6a3ce929d0e0e4736')
  }
})

test('span ids are fresh 16-hex ids and the header is well formed', () => {
  const a = newSpanId(), b = newSpanId()
  assert.match(a, /^[0-9a-f]{16}$/)
  assert.notEqual(a, b)
  assert.equal(formatTraceparent('4bf92f3577b34da6a3ce929d0e0e4736', a, '01'), `00-4bf92f3577b34da6a3ce929d0e0e4736-${a}-01`)
})

test('a traceparent is read up to 512 characters (future versions may grow); longer ones start a fresh trace', () => {
  const base = 'cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-'
  const at = (n: number) => parseTraceparent(base + 'x'.repeat(n - base.length))
  assert.equal(at(512).propagated, true)
  assert.equal(at(512).traceId, '4bf92f3577b34da6a3ce929d0e0e4736')
  assert.equal(at(513).propagated, false)
})

test('ids that start or end with zeros are valid; only all-zero ids are not', () => {
  const t = parseTraceparent('00-0bf92f3577b34da6a3ce929d0e0e4730-00f067aa0ba902b0-01')
  assert.deepEqual(t, { traceId: '0bf92f3577b34da6a3ce929d0e0e4730', parentId: '00f067aa0ba902b0', flags: '01', propagated: true })
})

test('surrounding whitespace around a traceparent is ignored', () => {
  assert.equal(parseTraceparent(' 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\t').traceId, '4bf92f3577b34da6a3ce929d0e0e4736')
})

test('a traceparent with anything before the version or after the flags starts a fresh trace', () => {
  for (const bad of ['x00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x']) {
    assert.equal(parseTraceparent(bad).propagated, false, bad)
  }
})
