// test/runtime/http1/http10-chunked.test.ts: an HTTP/1.0 client gets a body of unknown length delimited by the
// close, unless its TE header lists chunked: then both engines send it chunked, as node:http does
// (ServerResponse#useChunkedEncodingByDefault; runtime/http1/edge-response.ts chunkedByDefault).
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../../helpers/recording-upstream.js'
import { req, WireConnection } from '../../helpers/wire.js'

let up: RecordingUpstream
const gws: Record<string, TestGateway> = {}

before(async () => {
  up = await startRecordingUpstream(1)
  up.replicas[0].behave({ kind: 'raw', bytes: 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n' })
  const policy = `upstream u { replicas ${up.addrs} }\nroute all { match path prefix "/"; timeout 2s; proxy u }\n`
  for (const engine of ['node', 'http1']) gws[engine] = await startGateway(policy, { engine })
})
after(async () => { for (const g of Object.values(gws)) await g.close(); await up.close() })

/** The raw answer to `bytes` (everything until the gateway closes, or until a chunked body ended). */
async function answer(engine: string, bytes: string): Promise<{ framing: string; body: string }> {
  const c = await WireConnection.open(gws[engine].running.address.port)
  try {
    await c.write(bytes)
    const r = await c.read({ timeoutMs: 3000 })
    const te = r.all('transfer-encoding').join(',')
    return { framing: te !== '' ? te : r.all('content-length').length > 0 ? 'length' : 'close', body: r.rawBody.toString('latin1') }
  } finally { c.close() }
}

for (const [what, te, framing, body] of [
  ['without TE', null, 'close', 'hello'],
  ['with TE: chunked', 'chunked', 'chunked', '5\r\nhello\r\n0\r\n\r\n'],
  ['with TE: trailers, Chunked', 'trailers, Chunked', 'chunked', '5\r\nhello\r\n0\r\n\r\n'],
  ['with TE: xchunked', 'xchunked', 'close', 'hello'],
] as const) {
  test(`an HTTP/1.0 client ${what}: a body of unknown length is ${framing === 'close' ? 'ended by the close' : 'chunked'}, on both engines`, async () => {
    const bytes = req('GET /x HTTP/1.0', 'Host: h', ...(te === null ? [] : [`TE: ${te}`]))
    for (const engine of ['node', 'http1']) assert.deepEqual(await answer(engine, bytes), { framing, body }, engine)
  })
}
