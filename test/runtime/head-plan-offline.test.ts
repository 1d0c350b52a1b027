// test/runtime/head-plan-offline.test.ts: `gwc test` (runtime/offline.ts) answers what gw does for routes whose
// `headers` stages are head plans (issue 13 item 2): the same requests go through a real gw (both engines) to a
// recording upstream and through runSuite; the headers gw sent upstream and to the client become the offline
// case's expectations, which must all hold.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { runSuite, type TestCase } from '../../runtime/offline.js'
import { bundleFrom, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'
import { req, wireExchange } from '../helpers/wire.js'

let up: RecordingUpstream
let policy = ''

before(async () => {
  up = await startRecordingUpstream(1)
  up.replicas[0].behave({ kind: 'answer', headers: [['content-type', 'text/plain']], body: 'ok' })
  policy = `
upstream u { replicas ${up.addrs} }
route edits {
  match path prefix "/edits"
  timeout 2s
  headers request set X-Env "prod", remove X-Debug, set Via "edge"
  headers response set X-Frame-Options "DENY", remove Server
  headers request set x-env "prod; v=2", set X-Added "a b"
  proxy u
}
route cors_then_plans {
  match path prefix "/cors"
  timeout 2s
  cors origins "https://app.test"
  headers response set X-Before "1", remove Vary
  headers response set Access-Control-Allow-Origin "https://static.test"
  proxy u
}
route host_then_rewrite {
  match path prefix "/host-a"
  timeout 2s
  headers request set Host "static.internal", set X-Env "a"
  rewrite host "dynamic.internal"
  proxy u
}
route own {
  match path "/own"
  timeout 2s
  headers response set X-Own "1", remove Content-Type
  respond 200 text "hi"
}
`
})
after(async () => { await up.close() })

const REQUEST_NAMES = ['host', 'x-env', 'x-debug', 'via', 'x-added', 'accept']
const RESPONSE_NAMES = ['x-frame-options', 'server', 'x-before', 'vary', 'access-control-allow-origin', 'x-own', 'content-type']

const CASES: { path: string; headers: Record<string, string> }[] = [
  { path: '/edits/x', headers: { 'X-Debug': '1', 'X-ENV': 'client', Via: '1.1 proxy-a', Accept: '*/*' } },
  { path: '/cors', headers: { Origin: 'https://app.test' } },
  { path: '/host-a', headers: {} },
  { path: '/own', headers: {} },
]

for (const engine of ['node', 'http1'] as const) {
  test(`${engine}: gwc test's forwarded and response headers are gw's`, async () => {
    const gw: TestGateway = await startGateway(policy, { engine })
    try {
      const cases: TestCase[] = []
      for (const c of CASES) {
        up.reset()
        const lines = ['Host: shop.test', ...Object.entries(c.headers).map(([k, v]) => `${k}: ${v}`)]
        const res = await wireExchange(gw.running.address.port, req(`GET ${c.path} HTTP/1.1`, ...lines))
        const forwarded: Record<string, string | null> = {}
        if (up.received.length === 1) for (const n of REQUEST_NAMES) forwarded[n] = up.received[0].all(n).at(-1) ?? null
        const headers: Record<string, string | null> = {}
        for (const n of RESPONSE_NAMES) headers[n] = res.all(n).at(-1) ?? null
        if (c.path !== '/own') { delete headers.server; delete headers['content-type'] } // the upstream's own: offline has no upstream
        cases.push({ name: c.path, request: `GET http://shop.test${c.path}`, headers: c.headers, expect: { status: res.status, forwarded, headers } })
      }
      // what gw did is what the cases pin (so they pin something): the plans acted
      assert.equal(cases[0].expect.forwarded!['x-env'], 'prod; v=2')
      assert.equal(cases[0].expect.forwarded!['x-debug'], null)
      assert.equal(cases[1].expect.headers!['access-control-allow-origin'], 'https://static.test')
      assert.equal(cases[2].expect.forwarded!.host, 'dynamic.internal')
      assert.equal(cases[3].expect.headers!['x-own'], '1')
      const b = bundleFrom(policy)
      const r = runSuite(b.manifest, b.moduleText, cases)
      assert.deepEqual(r.cases.filter(x => !x.ok).map(x => `${x.name}: ${x.failures.join('; ')}`), [])
    } finally { await gw.close() }
  })
}
