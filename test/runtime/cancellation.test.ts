// test/runtime/cancellation.test.ts: a client that goes away cancels the upstream request, whatever stage it
// was at (waiting for the answer, mid-download, mid-SSE stream, mid-upload), and the gateway's bookkeeping
// (in-flight gauges, outcome counters) comes back to rest.
import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { after, before, beforeEach, test } from 'node:test'
import { request } from 'undici'
import { metric } from '../helpers/gateway.js'
import { metricsText, replicaAddrs, startRig, waitFor, type Rig } from './fixtures.js'

let rig: Rig

before(async () => {
  rig = await startRig({ name: 'web', count: 1 }, s => `
upstream web { replicas ${replicaAddrs(s)} }
upstream one { replicas ${replicaAddrs(s)}; pool connections 1 }
route all { match path prefix "/"; timeout 15s; max_body 1GB; proxy web }
route one { match path prefix "/one"; timeout 15s; proxy one }
`)
})
after(async () => { await rig.close() })
beforeEach(() => rig.stub.reset())

const upstreamAborted = async () => metric(await metricsText(rig.gw), 'gw_upstream_requests_total', { upstream: 'web', outcome: 'aborted' }) ?? 0

async function settled(): Promise<void> {
  await waitFor(() => rig.stub.stats().inFlight === 0, 3000, 'the upstream to have nothing in flight')
  await waitFor(() => rig.gw.running.gateway.inFlight === 0, 3000, 'the gateway to have nothing in flight')
  const text = await metricsText(rig.gw)
  assert.equal(metric(text, 'gw_upstream_in_flight_requests', { upstream: 'web' }), 0)
  assert.equal(metric(text, 'gw_in_flight_requests'), 0)
}

test('a client leaving while the upstream is still thinking aborts the upstream request', async () => {
  const before = await upstreamAborted()
  const ac = new AbortController()
  const p = request(rig.gw.url + '/hang', { signal: ac.signal, dispatcher: rig.agent })
  await waitFor(() => rig.stub.stats().inFlight === 1, 3000, 'the request to reach the upstream')
  ac.abort()
  await assert.rejects(p)
  await waitFor(() => rig.stub.stats().aborted === 1, 3000, 'the upstream to see the abort')
  await settled()
  assert.equal(await upstreamAborted(), before + 1)
})

test('a client leaving mid-download stops the upstream sending', async () => {
  const ac = new AbortController()
  const res = await request(rig.gw.url + `/bytes/${200 * 1024 * 1024}`, { signal: ac.signal, dispatcher: rig.agent })
  let got = 0
  await assert.rejects(async () => {
    for await (const c of res.body) { got += (c as Buffer).length; if (got > 1024 * 1024) ac.abort() }
  })
  await waitFor(() => rig.stub.stats().aborted === 1, 3000, 'the upstream response to be cut')
  await settled()
})

test('a client leaving an endless SSE stream ends it upstream', async () => {
  const ac = new AbortController()
  const res = await request(rig.gw.url + '/sse?n=0&interval=50', { signal: ac.signal, dispatcher: rig.agent })
  let events = 0
  await assert.rejects(async () => {
    for await (const c of res.body) { events += ((c as Buffer).toString().match(/\n\n/g) ?? []).length; if (events >= 3) ac.abort() }
  })
  await waitFor(() => rig.stub.stats().aborted === 1, 3000, 'the upstream stream to be cut')
  await settled()
})

test('a client leaving mid-upload aborts the upstream request', async () => {
  const ac = new AbortController()
  async function* body() {
    yield Buffer.alloc(64 * 1024)
    await waitFor(() => rig.stub.stats().inFlight === 1, 3000, 'the upload to reach the upstream')
    ac.abort()
    await new Promise(() => undefined) // the rest never comes (no timer, so nothing keeps the process up)
    yield Buffer.alloc(1)
  }
  await assert.rejects(request(rig.gw.url + '/upload', { method: 'POST', body: Readable.from(body()), signal: ac.signal }))
  await waitFor(() => rig.stub.stats().aborted === 1, 3000, 'the upstream upload to be aborted')
  await settled()
})

test('a client leaving while its request waits for a pooled connection: it is never sent, and the slot is not leaked', async () => {
  const hold = new AbortController()
  const held = request(rig.gw.url + '/one/hold?latency=5000', { signal: hold.signal }).catch(() => undefined)
  await waitFor(() => rig.stub.stats().inFlight === 1, 3000, 'the only pooled connection to be busy')
  const ac = new AbortController()
  const queued = request(rig.gw.url + '/one/queued', { signal: ac.signal }).catch(() => 'aborted')
  await new Promise(r => setTimeout(r, 100))
  ac.abort()
  assert.equal(await queued, 'aborted')
  hold.abort()
  await held
  await waitFor(() => rig.stub.stats().inFlight === 0, 3000, 'the held request to end')
  for (let i = 0; i < 3; i++) {
    const res = await request(rig.gw.url + '/one/after', { dispatcher: rig.agent })
    await res.body.dump()
    assert.equal(res.statusCode, 200)
  }
  assert.equal(rig.stub.stats().byPath['/one/queued'], undefined, 'the abandoned request never reached the upstream')
  await settled()
})

test('after cancellations the pool still serves', async () => {
  for (let i = 0; i < 5; i++) {
    const res = await request(rig.gw.url + '/echo', { dispatcher: rig.agent })
    assert.equal(res.statusCode, 200)
    await res.body.dump()
  }
})
