// test/runtime/http1/edge-request-unit.test.ts: Http1Request (runtime/http1/edge-request.ts), the http1 engine's
// request body stream, driven directly: Node's flowing semantics (a 'data' listener or resume() starts the flow
// on the next tick, pause() stops it between chunks), the queue while paused and the backpressure it asks of the
// connection at HIGH_WATER, 'end' only once complete and drained, dump() after an unread answer, gone() as
// node:http's 'aborted' (ECONNRESET to an error listener, then 'close'), destroy() tearing the socket down once.
// Events are recorded in order, so a reordering is seen (issue 14: survivors of connection.ts's neighbours).
import assert from 'node:assert/strict'
import type { Socket } from 'node:net'
import { test } from 'node:test'
import { HIGH_WATER, Http1Request, type BodySource } from '../../../runtime/http1/edge-request.js'
import type { RequestHead } from '../../../runtime/http1/request-parser.js'

const tick = () => new Promise<void>(r => setImmediate(r))

function head(o: Partial<RequestHead> = {}): RequestHead {
  return {
    method: 'POST', target: '/t?q=1', versionMajor: 1, versionMinor: 1, rawHeaders: ['Host', 'h', 'Content-Length', '6'],
    headers: { host: 'h', 'content-length': '6' }, body: 'length', contentLength: 6, keepAlive: true, upgrade: false, expectContinue: false, size: 40, ...o,
  }
}

class Source implements BodySource {
  readonly calls: string[] = []
  backpressure(on: boolean): void { this.calls.push(on ? 'pause' : 'resume') }
  destroySocket(err?: Error): void { this.calls.push(`destroy:${err?.message ?? ''}`) }
}

function make(o: Partial<RequestHead> = {}): { req: Http1Request; src: Source; events: string[] } {
  const src = new Source()
  const req = new Http1Request(head(o), {} as Socket, src)
  const events: string[] = []
  return { req, src, events }
}
const record = (req: Http1Request, events: string[]): void => {
  req.on('data', (c: Buffer) => events.push(`data:${c.toString('latin1')}`))
  req.on('end', () => events.push('end'))
  req.on('close', () => events.push('close'))
}

test('the head is given as parsed; a request without a body, or with Content-Length: 0, is complete from the start', () => {
  const { req } = make()
  assert.equal(req.method, 'POST')
  assert.equal(req.url, '/t?q=1')
  assert.deepEqual(req.rawHeaders, ['Host', 'h', 'Content-Length', '6'])
  assert.deepEqual(req.headers, { host: 'h', 'content-length': '6' })
  assert.equal(req.httpVersionMajor, 1)
  assert.equal(req.httpVersionMinor, 1)
  assert.equal(req.complete, false)
  assert.equal(make({ versionMinor: 0 }).req.httpVersionMinor, 0)
  assert.equal(make({ body: 'none', contentLength: -1 }).req.complete, true)
  assert.equal(make({ body: 'length', contentLength: 0 }).req.complete, true)
  assert.equal(make({ body: 'chunked', contentLength: -1 }).req.complete, false)
})

test('a data listener starts the flow on the next tick: chunks in order, then end once complete', async () => {
  const { req, events } = make()
  assert.equal(req.consuming, false)
  req.push(Buffer.from('ab')) // before anyone listens: queued
  record(req, events)
  assert.equal(req.consuming, true)
  assert.deepEqual(events, [], 'nothing is delivered inside on()')
  await tick()
  assert.deepEqual(events, ['data:ab'])
  req.push(Buffer.from('cd')) // flowing and nothing queued: delivered at once
  assert.deepEqual(events, ['data:ab', 'data:cd'])
  req.push(Buffer.from('ef'))
  req.finish()
  assert.equal(req.complete, true)
  assert.deepEqual(events, ['data:ab', 'data:cd', 'data:ef'], 'end waits for the next tick')
  await tick()
  assert.deepEqual(events, ['data:ab', 'data:cd', 'data:ef', 'end'])
  req.finish()
  await tick()
  assert.equal(events.filter(e => e === 'end').length, 1, 'end once')
})

test('addListener is on: it starts the flow too; a once("end") added right after resume() sees the end', async () => {
  const a = make({ body: 'none', contentLength: -1 })
  a.req.addListener('data', () => undefined)
  assert.equal(a.req.consuming, true)
  a.req.once('end', () => a.events.push('end'))
  await tick()
  assert.deepEqual(a.events, ['end'])
  const b = make({ body: 'none', contentLength: -1 })
  b.req.resume()
  b.req.once('end', () => b.events.push('end'))
  await tick()
  assert.deepEqual(b.events, ['end'])
  // other listeners do not start the flow
  const c = make()
  c.req.on('end', () => undefined)
  assert.equal(c.req.consuming, false)
})

test('paused: chunks queue; at HIGH_WATER the connection is asked to stop reading, once; resume delivers the queue in order and releases it', async () => {
  const { req, src, events } = make({ contentLength: HIGH_WATER * 2 })
  req.pause()
  assert.equal(req.consuming, true, 'an explicit pause counts as reading')
  record(req, events)
  await tick()
  assert.deepEqual(events, [], 'a paused stream does not start on a data listener')
  const half = Buffer.alloc(HIGH_WATER / 2, 'x')
  req.push(half)
  req.push(Buffer.alloc(HIGH_WATER / 2 - 1, 'y'))
  assert.deepEqual(src.calls, [], 'one byte under HIGH_WATER')
  req.push(Buffer.from('z'))
  assert.deepEqual(src.calls, ['pause'], 'at HIGH_WATER exactly')
  req.push(Buffer.from('w'))
  assert.deepEqual(src.calls, ['pause'], 'asked once')
  req.resume()
  assert.deepEqual(events, [], 'resume delivers on the next tick')
  await tick()
  assert.deepEqual((events as string[]).map(e => e.length), [5 + HIGH_WATER / 2, 5 + HIGH_WATER / 2 - 1, 6, 6])
  assert.deepEqual(src.calls, ['pause', 'resume'])
  // a second round counts from zero: the queue was emptied
  req.pause()
  req.push(Buffer.alloc(HIGH_WATER - 1))
  assert.deepEqual(src.calls, ['pause', 'resume'])
})

test('pause() inside a data handler stops delivery between queued chunks; resume goes on from there, then end', async () => {
  const { req, events } = make()
  req.pause()
  req.on('data', (c: Buffer) => { events.push(`data:${c}`); if (c.toString() === 'b') req.pause() })
  req.on('end', () => events.push('end'))
  for (const s of ['a', 'b', 'c']) req.push(Buffer.from(s))
  req.finish()
  req.resume()
  await tick()
  assert.deepEqual(events, ['data:a', 'data:b'])
  await tick()
  assert.deepEqual(events, ['data:a', 'data:b'], 'stays paused')
  req.resume()
  await tick()
  assert.deepEqual(events, ['data:a', 'data:b', 'data:c', 'end'])
})

test('finish while paused: no end until resumed and drained', async () => {
  const { req, events } = make()
  record(req, events)
  req.pause()
  req.push(Buffer.from('q'))
  req.finish()
  await tick()
  assert.deepEqual(events, [])
  req.resume()
  await tick()
  assert.deepEqual(events, ['data:q', 'end'])
})

test('dump(): what is queued and what still arrives is dropped, backpressure released; a complete request is not touched', async () => {
  const { req, src, events } = make({ contentLength: HIGH_WATER * 2 })
  req.pause()
  record(req, events)
  req.push(Buffer.alloc(HIGH_WATER))
  assert.deepEqual(src.calls, ['pause'])
  req.dump()
  assert.equal(req.dumping, true)
  assert.deepEqual(src.calls, ['pause', 'resume'])
  req.push(Buffer.from('late'))
  req.resume()
  await tick()
  assert.deepEqual(events, [], 'nothing is delivered after dump()')
  // not pressing: dump() asks nothing of the connection
  const b = make()
  b.req.pause()
  b.req.push(Buffer.from('x'))
  b.req.dump()
  assert.deepEqual(b.src.calls, [])
  // complete: dump() is a no-op (the queue is still delivered)
  const c = make()
  c.req.pause()
  record(c.req, c.events)
  c.req.push(Buffer.from('whole!'))
  c.req.finish()
  c.req.dump()
  assert.equal(c.req.dumping, false)
  c.req.resume()
  await tick()
  assert.deepEqual(c.events, ['data:whole!', 'end'])
})

test('gone(): an unfinished body is ECONNRESET "aborted" to an error listener, then close; once; not when complete or dumped', () => {
  const { req, events } = make()
  req.on('error', (e: NodeJS.ErrnoException) => events.push(`error:${e.code}:${e.message}`))
  req.on('close', () => events.push('close'))
  req.gone()
  assert.equal(req.destroyed, true)
  assert.deepEqual(events, ['error:ECONNRESET:aborted', 'close'])
  req.gone()
  assert.deepEqual(events, ['error:ECONNRESET:aborted', 'close'], 'once')
  req.on('data', () => events.push('data'))
  req.resume()
  req.push(Buffer.from('x'))
  assert.deepEqual(events, ['error:ECONNRESET:aborted', 'close'], 'no data after gone')
  // without an error listener: no throw, just close
  const quiet = make()
  quiet.req.on('close', () => quiet.events.push('close'))
  quiet.req.gone()
  assert.deepEqual(quiet.events, ['close'])
  for (const setup of [(r: Http1Request) => r.finish(), (r: Http1Request) => { r.pause(); r.dump() }]) {
    const x = make()
    x.req.on('error', () => x.events.push('error'))
    x.req.on('close', () => x.events.push('close'))
    setup(x.req)
    x.req.gone()
    assert.deepEqual(x.events, ['close'])
  }
})

test('destroy() tears the socket down with the error, and not after the connection is gone', () => {
  const { req, src } = make()
  const boom = new Error('too big')
  assert.equal(req.destroy(boom), req)
  assert.deepEqual(src.calls, ['destroy:too big'])
  req.gone()
  req.destroy()
  assert.deepEqual(src.calls, ['destroy:too big'])
})

test('a flush scheduled before the connection went away delivers nothing', async () => {
  const { req, events } = make()
  req.pause()
  record(req, events)
  req.push(Buffer.from('a'))
  req.resume()
  req.gone()
  await tick()
  assert.deepEqual(events, ['close'])
})

test('a chunk pushed between resume() and the flush it scheduled comes after the queued ones', async () => {
  const { req, events } = make()
  req.pause()
  record(req, events)
  req.push(Buffer.from('a'))
  req.resume()
  req.push(Buffer.from('b'))
  await tick()
  assert.deepEqual(events, ['data:a', 'data:b'])
})

test('paused again part-way through the queue: what is left still counts toward HIGH_WATER, what was delivered does not', async () => {
  const { req, src } = make({ contentLength: HIGH_WATER * 2 })
  req.pause()
  let n = 0
  req.on('data', () => { if (++n === 1) req.pause() })
  const quarter = HIGH_WATER / 4
  for (let i = 0; i < 3; i++) req.push(Buffer.alloc(quarter))
  req.resume()
  await tick()
  assert.equal(n, 1)
  req.push(Buffer.alloc(quarter)) // 3 quarters queued now: still under
  assert.deepEqual(src.calls, [])
  req.push(Buffer.alloc(quarter)) // 4 quarters: HIGH_WATER
  assert.deepEqual(src.calls, ['pause'])
})

test('paused before its flush ran: a complete request does not end while paused', async () => {
  const { req, events } = make({ body: 'none', contentLength: -1 })
  req.on('end', () => events.push('end'))
  req.resume()
  req.pause()
  await tick()
  assert.deepEqual(events, [])
  req.resume()
  await tick()
  assert.deepEqual(events, ['end'])
})

test('the queue asks the connection to stop reading at 64 KiB, as a number of bytes (not only as the exported constant)', () => {
  const { req, src } = make({ contentLength: 1 << 20 })
  req.pause()
  req.push(Buffer.alloc(65_535))
  assert.deepEqual(src.calls, [])
  req.push(Buffer.alloc(1))
  assert.deepEqual(src.calls, ['pause'])
})
