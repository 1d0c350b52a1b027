// test/runtime/http1/connection-split.test.ts: a body whose first byte starts a read (the head came in an
// earlier packet) followed in the same packet by the next request: the body delivered is exactly its length,
// the rest is the next request (runtime/http1/connection.ts feedBody's whole-buffer fast path, issue 14).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js'
import { req, WireConnection } from '../../helpers/wire.js'

let up: RecordingUpstream
let gw: TestGateway
before(async () => {
  up = await startRecordingUpstream(1)
  up.replicas[0].behave(r => ({ kind: 'answer', body: `${r.method} ${r.target}` }))
  gw = await startGateway(`upstream u { replicas ${up.addrs} }\nroute up { match path prefix "/"; timeout 5s; proxy u }\n`, { engine: 'http1' })
})
after(async () => { await gw.close(); await up.close() })

test('the head alone, then the body and the next request in one packet: the body is exactly its Content-Length', async () => {
  const c = await WireConnection.open(gw.running.address.port)
  try {
    await c.write(req('POST /split HTTP/1.1', 'Host: h', 'Content-Length: 4'))
    await new Promise(r => setTimeout(r, 50))
    await c.write('wxyz' + req('GET /behind HTTP/1.1', 'Host: h'))
    assert.equal((await c.read()).text, 'POST /split')
    assert.equal((await c.read()).text, 'GET /behind')
    const r = up.received.find(x => x.target === '/split')
    assert.equal(r?.body.toString('latin1'), 'wxyz')
    assert.deepEqual(up.received.map(x => x.target), ['/split', '/behind'])
  } finally { c.close() }
})
