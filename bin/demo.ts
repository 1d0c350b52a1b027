// `gw demo [PATH…]`: the gateway on the example policies (default examples/demo.gwp) with everything it needs
// started in the same process: stub upstreams on the ports the policy's upstreams name, and a mock identity
// provider on the port of each loopback token issuer. Prints curl lines to try; Ctrl-C stops everything.
import { fileURLToPath } from 'node:url'
import { pino } from 'pino'
import { startIdp, type Idp } from '../testkit/idp/index.js'
import { startStub } from '../testkit/upstream/stub.js'
import { compile } from '../compiler/compile.js'
import { buildBundle } from '../compiler/bundle.js'
import { renderText } from '../compiler/diagnostics/render.js'
import { FRONT_ENDS } from '../compiler/front-ends.js'
import { verifyBundle } from '../config/bundle.js'
import { loadSettings } from '../config/settings.js'
import { serve } from '../runtime/serve.js'

const DEFAULT_POLICY = fileURLToPath(new URL('../../examples/demo.gwp', import.meta.url))
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]'])

export async function demo(args: string[]): Promise<void> {
  const paths = args.filter(a => !a.startsWith('--'))
  const policy = paths.length > 0 ? paths : [DEFAULT_POLICY]
  const r = compile(policy, { frontEnds: FRONT_ENDS })
  if (r.ir === undefined) {
    process.stderr.write(renderText(r.diagnostics, new Map(r.sources.map(s => [s.display, s.text]))))
    throw new Error('the demo policy does not compile')
  }
  const ir = r.ir

  // Declarations naming a token issuer on this machine (an identity provider) get a mock IdP on that port. Read
  // by the field, not by the declaration's kind: the core names no policy.
  const idps = new Map<string, Idp>()
  for (const p of ir.declarations as { issuer?: unknown }[]) {
    if (typeof p.issuer !== 'string') continue
    const u = new URL(p.issuer)
    if (!LOOPBACK.has(u.hostname) || idps.has(u.host)) continue
    idps.set(u.host, await startIdp({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port), issuer: p.issuer, algorithms: ['RS256', 'ES256', 'EdDSA'] }))
  }
  // Every loopback replica of every upstream gets a stub; /v1/events streams server-sent events.
  const services = ir.upstreams.map(u => ({ name: u.name, ports: u.replicas.filter(x => LOOPBACK.has(x.host)).map(x => x.port) })).filter(s => s.ports.length > 0)
  const stub = await startStub({
    seed: 1, services,
    rules: [
      { path: '/', latency: { dist: 'lognormal', p50: 2, p99: 20 } },
      { path: '/v1/events', mode: 'sse' },
      { path: '/v1/payments', latency: { dist: 'lognormal', p50: 40, p99: 150 } },
    ],
  })

  const b = buildBundle(ir, r.sources)
  const settings = loadSettings(undefined, { listen: '127.0.0.1:8080', admin: '127.0.0.1:9901', logLevel: 'info' })
  const running = await serve(settings, { load: async () => ({ manifest: verifyBundle(b.manifestText, b.moduleText), moduleText: b.moduleText }) },
    { log: pino({ level: 'info', base: null, timestamp: pino.stdTimeFunctions.isoTime }) })

  const gw = `http://127.0.0.1:${running.address.port}`
  const admin = `http://127.0.0.1:${running.adminAddress!.port}`
  const idp = [...idps.values()][0]
  const token = idp ? await idp.sign({ tid: 'acme' }, { subject: 'alice', audience: 'shop-api', expiresIn: '12h' }) : ''
  const host = `-H 'Host: api.shop.com'`
  const auth = `-H 'Authorization: Bearer ${token}'`
  process.stdout.write(`
gwp demo: gateway ${gw}, admin ${admin}
  ${stub.replicas.length} stub upstream replicas (${services.map(s => s.name).join(', ')}), ${idps.size} mock identity provider(s)
  policy: ${r.sources.map(s => s.display).join(', ')} — bundle ${running.gateway.active!.version}

Try:
  curl -i ${host} ${gw}/status                                   # answered by the gateway itself
  curl -i ${host} ${gw}/v1/catalog/items                         # proxied, rate-limited by ip
  curl -i ${host} ${gw}/v1/orders/42                             # 401: needs a token
  curl -i ${host} ${auth} ${gw}/v1/orders/42
  curl -i ${host} ${auth} -X POST -H 'Idempotency-Key: k1' --data '{"amount":5}' ${gw}/v1/payments
  curl -N ${host} ${gw}/v1/events                                # server-sent events, streamed
  curl -i ${gw}/nowhere                                          # 404 no_route
  curl -s ${admin}/routes | head -40
  curl -s ${admin}/metrics | grep ^gw_requests_total

Press Ctrl-C to stop.
`)
  const stop = async () => {
    const res = await running.shutdown('SIGINT')
    await stub.close()
    for (const i of idps.values()) await i.close()
    process.stdout.write(`stopped (drained ${res.drained}, aborted ${res.aborted})\n`)
    process.exit(0)
  }
  process.once('SIGINT', () => void stop())
  process.once('SIGTERM', () => void stop())
}
