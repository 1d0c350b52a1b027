// test/issues/14-mutation-proxy.test.ts: what the mutation run (lab/mutation) found untested in the terminal
// stages (runtime/upstream/proxy.ts, runtime/respond.ts): a weighted split's boundaries (a draw exactly at a
// boundary belongs to the next upstream: [0, 50) → first, [50, 100) → second), a `respond` reply is not an error
// in the access log, and a bundle naming an upstream the gateway does not have is refused at load with a clear error.
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { createProxyStage, type ProxyDeps } from '../../runtime/upstream/proxy.js'
import { call, startGateway, type TestGateway } from '../helpers/gateway.js'

let gw: TestGateway
const servers: Server[] = []
const logFile = join(mkdtempSync(join(tmpdir(), 'gwp-proxy-')), 'access.log')

/** An upstream that answers its own name. */
async function named(name: string): Promise<number> {
  const s = createServer((req, res) => { req.resume(); res.end(name) })
  servers.push(s)
  await new Promise<void>(r => s.listen(0, '127.0.0.1', r))
  return (s.address() as { port: number }).port
}

before(async () => {
  const [blue, green, red] = [await named('blue'), await named('green'), await named('red')]
  gw = await startGateway(`
upstream blue { replicas 127.0.0.1:${blue} }
upstream green { replicas 127.0.0.1:${green} }
upstream red { replicas 127.0.0.1:${red} }
route halves { match path "/halves"; timeout 2s; proxy blue 50%, green 50% }
route thirds { match path "/thirds"; timeout 2s; proxy blue 20%, green 30%, red 50% }
route teapot { match path "/teapot"; timeout 2s; respond 418 text "short and stout" }
`, { accessLog: true, logDestination: logFile, drainTimeoutMs: 500 })
})
after(async () => {
  await gw.close()
  for (const s of servers) { s.close(); s.closeAllConnections() }
})

/** Which upstream answers when Math.random() returns `r` for this request's draw. */
async function drawn(path: string, r: number): Promise<string> {
  const random = Math.random
  Math.random = () => r
  try {
    const res = await call(gw.url + path)
    assert.equal(res.status, 200)
    return res.text
  } finally { Math.random = random }
}

test('a weighted split: a draw exactly at a boundary goes to the next upstream', async () => {
  assert.equal(await drawn('/halves', 0), 'blue')
  assert.equal(await drawn('/halves', 0.4999), 'blue')
  assert.equal(await drawn('/halves', 0.5), 'green', 'the draw 50 of 100 is the first of green\'s half')
  assert.equal(await drawn('/halves', 0.9999), 'green')
  // heaviest first: red [0, 50), green [50, 80), blue [80, 100)
  assert.equal(await drawn('/thirds', 0.4999), 'red')
  assert.equal(await drawn('/thirds', 0.5), 'green')
  assert.equal(await drawn('/thirds', 0.7999), 'green')
  assert.equal(await drawn('/thirds', 0.8), 'blue')
  assert.equal(await drawn('/thirds', 0.9999), 'blue')
})

test('a respond route answers without an error code in its access-log line', async () => {
  const res = await call(gw.url + '/teapot')
  assert.equal(res.status, 418)
  assert.equal(res.text, 'short and stout')
  const id = String(res.headers['x-request-id'])
  let line: Record<string, unknown> | undefined
  for (let i = 0; i < 60 && line === undefined; i++) {
    await new Promise(r => setTimeout(r, 50))
    let text = ''
    try { text = readFileSync(logFile, 'utf8') } catch { /* not written yet */ }
    line = text.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as Record<string, unknown>).find(l => l.id === id)
  }
  assert.ok(line !== undefined, 'the access-log line was written')
  assert.equal(line.status, 418)
  assert.equal(line.route, 'teapot')
  assert.equal('err' in line, false, `a configured answer is not an error: ${JSON.stringify(line)}`)
})

test('a bundle whose proxy names an upstream the gateway does not have is refused at load, naming both', () => {
  const opts = { route: 'orders', targets: [{ upstream: 'gone', weight: 100 }], timeoutMs: 1000, retry: null, fallback: null } as unknown as Parameters<typeof createProxyStage>[0]
  const deps = { upstreams: new Map(), outbound: {}, stripHeaders: null, stripQuery: null, failovers: {} } as unknown as ProxyDeps
  assert.throws(() => createProxyStage(opts, deps), { message: 'proxy of route "orders" names unknown upstream "gone"' })
})
