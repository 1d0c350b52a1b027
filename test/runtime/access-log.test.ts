// test/runtime/access-log.test.ts: the access-log writer keeps every line whole and in order across its
// 64 KiB buffers — many lines, non-ASCII and escaped client text, a line longer than a buffer — and close()
// writes out what is buffered. (That gw writes one such line per request, and what it holds: the
// integration suites read gw's log.)
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import { browserHeaders, fakeRequest, fakeResponse } from '../../bench/runtime/kit/fake-http.js'
import { AccessLog } from '../../runtime/access-log.js'
import { RequestContext } from '../../runtime/context.js'
import { readHead } from '../../runtime/request-head.js'
import type { RouteRuntime } from '../../runtime/route-runtime.js'

function finished(path: string, status: number): RequestContext {
  const { res } = fakeResponse()
  const ctx = new RequestContext(fakeRequest({ url: '/x', headers: browserHeaders('api.test') }), res, performance.now())
  assert.ok(readHead(ctx, { trusted: null }))
  ctx.path = path // set after readHead, so any text can be logged (the writer must escape it)
  ctx.route = { name: 'r' } as RouteRuntime
  ctx.status = status
  ctx.upstreamAddr = '127.0.0.1:9000'; ctx.upstreamMs = 1.25; ctx.attempts = 1
  return ctx
}

test('lines stay whole and in order across buffers; client text is escaped; close writes the rest', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'gwp-log-')), 'access.log')
  const log = new AccessLog(file)
  const paths: string[] = []
  const odd = ['/café/ünïcode/日本', '/quote"back\\slash', '/ctl\u0001\u001f', '/emoji/😀', `/long/${'x'.repeat(30_000)}`]
  for (let i = 0; i < 5000; i++) {
    const p = i % 500 === 7 ? odd[Math.floor(i / 500) % odd.length] : `/v1/items/${i}`
    paths.push(p)
    log.log(finished(p, 200 + (i % 3)), i / 1000, i % 1000 === 999)
    if (i % 700 === 0) await new Promise(r => setImmediate(r)) // let writes start in between, as a server does
  }
  await log.close()
  assert.equal(log.dropped, 0)
  assert.equal(log.writeErrors, 0)
  const lines = readFileSync(file, 'utf8').split('\n')
  assert.equal(lines.pop(), '', 'the file ends with a newline')
  assert.equal(lines.length, 5000)
  lines.forEach((l, i) => {
    const o = JSON.parse(l) as { msg: string; path: string; status: number; aborted?: boolean; upstream: string }
    assert.equal(o.msg, 'access')
    assert.equal(o.path, paths[i], `line ${i}`)
    assert.equal(o.status, 200 + (i % 3))
    assert.equal(o.aborted, i % 1000 === 999 ? true : undefined)
    assert.equal(o.upstream, '127.0.0.1:9000')
  })
})

test('a quiet gateway\'s lines reach the file within the flush period', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'gwp-log-')), 'access.log')
  const log = new AccessLog(file)
  log.log(finished('/one', 204), 0.5, false)
  await new Promise(r => setTimeout(r, 400))
  assert.match(readFileSync(file, 'utf8'), /"path":"\/one","route":"r","status":204/)
  await log.close()
})
