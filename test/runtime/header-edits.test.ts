// test/runtime/header-edits.test.ts: what a route's header edits (ctx.setResponseHeader & co., recorded in order
// and applied by runtime/headers.ts applyEdits) mean together. The contract is sequential — each edit applied to
// the result of the ones before: a set removes every line of its name (any case) and appends one; a remove
// removes every line; an add appends one and keeps the rest. Lines the upstream sent keep their order and case;
// lines edits append come after them, in edit order. applyEdits computes that result in one pass.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { applyEdits } from '../../runtime/headers.js'
import { RequestContext } from '../../runtime/context.js'
import { fakeRequest, fakeResponse } from '../../bench/runtime/kit/fake-http.js'

const UPSTREAM = ['Content-Type', 'application/json', 'X-Served-By', 'replica-1', 'Vary', 'Accept-Encoding', 'ETag', '"v1"', 'x-served-by', 'replica-2']

/** Records edits through the context's own methods, as stages do, and applies them to a copy of `headers`. */
function edited(headers: string[], record: (ctx: RequestContext) => void): string[] {
  const ctx = new RequestContext(fakeRequest({ url: '/', headers: [['Host', 'a.test']] }), fakeResponse().res, 0)
  record(ctx)
  return applyEdits([...headers], ctx.resEdits ?? [])
}

test('set then remove: the header is gone, the upstream\'s lines of it too', () => {
  assert.deepEqual(edited(UPSTREAM, c => { c.setResponseHeader('x-served-by', 'gw'); c.removeResponseHeader('x-served-by') }),
    ['Content-Type', 'application/json', 'Vary', 'Accept-Encoding', 'ETag', '"v1"'])
})

test('remove then set: one line, the set value, after the upstream\'s lines', () => {
  assert.deepEqual(edited(UPSTREAM, c => { c.removeResponseHeader('x-served-by'); c.setResponseHeader('x-served-by', 'gw') }),
    ['Content-Type', 'application/json', 'Vary', 'Accept-Encoding', 'ETag', '"v1"', 'x-served-by', 'gw'])
})

test('add twice: both lines, in order, the upstream\'s line of that name kept', () => {
  assert.deepEqual(edited(UPSTREAM, c => { c.addResponseHeader('vary', 'Origin'); c.addResponseHeader('vary', 'Cookie') }),
    [...UPSTREAM, 'vary', 'Origin', 'vary', 'Cookie'])
})

test('remove a header the upstream sent in mixed case (twice, in two cases): every line goes, the rest keep order and case', () => {
  assert.deepEqual(edited(UPSTREAM, c => c.removeResponseHeader('x-served-by')),
    ['Content-Type', 'application/json', 'Vary', 'Accept-Encoding', 'ETag', '"v1"'])
  assert.deepEqual(edited(['ACCESS-CONTROL-ALLOW-ORIGIN', '*', 'X-A', '1', 'Access-Control-Allow-Credentials', 'true'],
    c => { c.removeResponseHeader('access-control-allow-origin'); c.removeResponseHeader('access-control-allow-credentials') }), ['X-A', '1'])
})

test('a set replaces the upstream\'s lines and an earlier add of its name; an add after a set keeps the set line', () => {
  assert.deepEqual(edited(UPSTREAM, c => { c.addResponseHeader('vary', 'Origin'); c.setResponseHeader('vary', 'Cookie') }),
    ['Content-Type', 'application/json', 'X-Served-By', 'replica-1', 'ETag', '"v1"', 'x-served-by', 'replica-2', 'vary', 'Cookie'])
  assert.deepEqual(edited(UPSTREAM, c => { c.setResponseHeader('vary', 'Cookie'); c.addResponseHeader('vary', 'Origin') }),
    ['Content-Type', 'application/json', 'X-Served-By', 'replica-1', 'ETag', '"v1"', 'x-served-by', 'replica-2', 'vary', 'Cookie', 'vary', 'Origin'])
})

test('set twice: the last value, once; edits of other names keep their own order', () => {
  assert.deepEqual(edited(UPSTREAM, c => {
    c.setResponseHeader('x-a', '1'); c.setResponseHeader('x-b', '2'); c.setResponseHeader('x-a', '3'); c.removeResponseHeader('etag')
  }), ['Content-Type', 'application/json', 'X-Served-By', 'replica-1', 'Vary', 'Accept-Encoding', 'x-served-by', 'replica-2', 'x-b', '2', 'x-a', '3'])
})

test('the CORS edits of an allowed origin over an upstream that sent its own CORS headers in other cases', () => {
  const up = ['Content-Type', 'text/plain', 'Access-Control-Allow-Origin', 'https://other.test', 'ACCESS-CONTROL-ALLOW-CREDENTIALS', 'true', 'Vary', 'Accept-Encoding']
  assert.deepEqual(edited(up, c => {
    c.addResponseHeader('vary', 'Origin')
    c.setResponseHeader('access-control-allow-origin', 'https://app.test')
    c.removeResponseHeader('access-control-allow-credentials')
    c.setResponseHeader('access-control-expose-headers', 'X-Total')
  }), ['Content-Type', 'text/plain', 'Vary', 'Accept-Encoding', 'vary', 'Origin', 'access-control-allow-origin', 'https://app.test', 'access-control-expose-headers', 'X-Total'])
})

test('no edits, and edits naming nothing present: the list as it was', () => {
  assert.deepEqual(applyEdits([...UPSTREAM], []), UPSTREAM)
  assert.deepEqual(edited(UPSTREAM, c => c.removeResponseHeader('x-none')), UPSTREAM)
  assert.deepEqual(applyEdits([], ['x-a', '1', null, 'x-b', '2', 'x-c', null]), ['x-a', '1', 'x-b', '2'])
})

test('request edits: the upstream Host edit (setUpstreamHost) replaces the client\'s Host in any case', () => {
  assert.deepEqual(applyEdits(['HOST', 'client.test', 'Accept', '*/*'], ['host', 'users.internal']), ['Accept', '*/*', 'host', 'users.internal'])
})
