// test/runtime/respond-mut.test.ts: the head of a redirect the gateway makes (`respond redirect`, `redirect
// https`): Location, an empty body with Content-Length: 0, and the gateway's text Content-Type, on both engines.
// Found by mutating runtime/respond.ts (lab/mutation, area edge): redirectReply's content type emptied.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { rawRequest } from './fixtures.js'

const policy = (addrs: string): string => `
upstream svc { replicas ${addrs} }
route moved { match host "old.test"; respond redirect 301 "https://new.test{path}?{query}" }
route secure { match host "app.test"; redirect https; proxy svc }
`
const ENGINES = ['http1', 'node'] as const
let up: RecordingUpstream
const gws = new Map<string, TestGateway>()

before(async () => {
  up = await startRecordingUpstream(1)
  for (const engine of ENGINES) gws.set(engine, await startGateway(policy(up.addrs), { engine }))
})
after(async () => { for (const gw of gws.values()) await gw.close(); await up.close() })

for (const engine of ENGINES) {
  test(`${engine}: a redirect has Location, no body, Content-Length: 0 and Content-Type: text/plain; charset=utf-8`, async () => {
    const port = gws.get(engine)!.running.address.port
    const cases = [
      { host: 'old.test', status: 301, location: 'https://new.test/a?b=1' },
      { host: 'app.test', status: 308, location: 'https://app.test/a?b=1' },
    ]
    for (const c of cases) {
      const r = await rawRequest(port, `GET /a?b=1 HTTP/1.1\r\nHost: ${c.host}\r\n\r\n`, { waitMs: 3000 })
      assert.equal(r.status, c.status, r.text)
      assert.equal(r.headers.location, c.location)
      assert.equal(r.headers['content-type'], 'text/plain; charset=utf-8', `${c.host}: ${r.text}`)
      assert.equal(r.headers['content-length'], '0')
      assert.equal(r.body, '')
    }
    assert.equal(up.received.length, 0, 'nothing reached the upstream')
  })
}
