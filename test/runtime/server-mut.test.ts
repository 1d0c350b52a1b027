// test/runtime/server-mut.test.ts: what runtime/server.ts's refuse() logs for a bare-socket refusal, on both
// engines (both answer their refusals with it), and that the node:http listener answers at all when a gateway
// asks for `engine: node` itself (the mutation run's tests use the default, http1). Found by mutating
// runtime/server.ts (lab/mutation, area edge): the access line's ip when the peer's address is no longer known,
// its path for a CONNECT target that starts with `?`, and createClientServer emptied.
import assert from 'node:assert/strict'
import { mkdtempSync } from 'node:fs'
import type { Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { startGateway, type TestGateway } from '../helpers/gateway.js'
import { accessLine } from '../helpers/access-log.js'
import { rawRequest } from './fixtures.js'

const policy = 'route own { match path prefix "/"; respond 200 text "ok" }\n'
const ENGINES = ['http1', 'node'] as const
const gws = new Map<string, { gw: TestGateway; log: string }>()

before(async () => {
  for (const engine of ENGINES) {
    const log = join(mkdtempSync(join(tmpdir(), `gwp-server-mut-${engine}-`)), 'access.log')
    gws.set(engine, { gw: await startGateway(policy, { engine, accessLog: true, logDestination: log }), log })
  }
})
after(async () => { for (const { gw } of gws.values()) await gw.close() })

const port = (g: TestGateway): number => g.running.address.port

for (const engine of ENGINES) {
  test(`${engine}: a refused request's access line has ip "" when the peer's address is no longer known`, async () => {
    const { gw, log } = gws.get(engine)!
    // a peer already gone: getpeername fails and Node's remoteAddress is undefined (simulated on the accepted socket)
    gw.running.server.once('connection', (s: Socket) => { Object.defineProperty(s, 'remoteAddress', { get: () => undefined }) })
    const r = await rawRequest(port(gw), 'GARBAGE\r\n\r\n', { waitMs: 3000, untilClose: true })
    assert.equal(r.status, 400, r.text)
    const line = await accessLine(log, String(r.headers['x-request-id']))
    assert.ok(line !== undefined, 'an access line')
    assert.equal(line.ip, '')
    assert.equal(line.reason, 'malformed')
  })

  test(`${engine}: a refused CONNECT logs its target without the query: "?x=secret" is logged as path ""`, async () => {
    const { gw, log } = gws.get(engine)!
    const r = await rawRequest(port(gw), 'CONNECT ?x=secret HTTP/1.1\r\nHost: a.test\r\n\r\n', { waitMs: 3000, untilClose: true })
    assert.equal(r.status, 405, r.text)
    const line = await accessLine(log, String(r.headers['x-request-id']))
    assert.ok(line !== undefined, 'an access line')
    assert.equal(line.method, 'CONNECT')
    assert.equal(line.path, '')
  })
}
