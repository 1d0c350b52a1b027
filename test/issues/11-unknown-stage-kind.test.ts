// Issue 11: a bundle naming a stage kind this runtime's policy registry does not have (built by a gwc with
// other policies) is refused at load with an error that says so, by the gateway (first load and reload: the
// running bundle keeps serving) and by `gwc test`; never skipped, never a bare "is not a function".
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { pino } from 'pino'
import type { BundleManifest } from '../../config/bundle.js'
import { loadSettings } from '../../config/settings.js'
import { runSuite } from '../../runtime/offline.js'
import { serve } from '../../runtime/serve.js'
import { STAGE_KINDS } from '../../runtime/stages.js'
import { bundleFrom, call } from '../helpers/gateway.js'

const POLICY = `
route limited { match path "/limited"; ratelimit by ip 100 per 1s; headers response set X-A "1"; respond 200 text "ok" }
`

/** The bundle a gwc with a `waf` policy would write: the IR and the module name a `waf` stage. */
function wafBundle(): { manifest: BundleManifest; moduleText: string } {
  const b = bundleFrom(POLICY)
  const manifest = { ...structuredClone(b.manifest), version: 'c0125c0125c0125c' }
  ;(manifest.ir.routes[0].stages[0] as { kind: string }).kind = 'waf'
  assert.match(b.moduleText, /stages\.ratelimit\(/)
  return { manifest, moduleText: b.moduleText.replace('stages.ratelimit(', 'stages.waf(') }
}

/** Only the IR names it: the stage is emitted inline, so nothing would call a missing factory. */
function inlineWafBundle(): { manifest: BundleManifest; moduleText: string } {
  const b = bundleFrom(POLICY)
  const manifest = { ...structuredClone(b.manifest), version: 'c0125c0125c0125d' }
  ;(manifest.ir.routes[0].stages[1] as { kind: string }).kind = 'waf'
  return { manifest, moduleText: b.moduleText }
}

const REFUSAL = /route "limited" uses a stage of kind "waf", which this gateway does not have \(it has auth, ratelimit, headers, cors, ip, rewrite, redirect, proxy, respond\); rebuild the bundle with the gwc that matches this gw/

test('the registry lists every policy kind and the core terminal stages', () => {
  assert.deepEqual([...STAGE_KINDS], ['auth', 'ratelimit', 'headers', 'cors', 'ip', 'rewrite', 'redirect', 'proxy', 'respond'])
})

test('the gateway refuses such a bundle at first load, and on reload keeps serving the one it has', async () => {
  const settings = loadSettings(undefined, { listen: '127.0.0.1:0', admin: '127.0.0.1:0', accessLog: false, logLevel: 'silent' })
  await assert.rejects(serve(settings, { load: async () => wafBundle() }, { log: pino({ level: 'silent' }) }), REFUSAL)
  let next = bundleFrom(POLICY)
  const running = await serve(settings, { load: async () => next }, { log: pino({ level: 'silent' }) })
  try {
    const url = `http://127.0.0.1:${running.address.port}/limited`
    assert.equal((await call(url)).status, 200)
    for (const bad of [wafBundle(), inlineWafBundle()]) {
      next = bad
      await assert.rejects(running.reload(), REFUSAL)
      const r = await call(url)
      assert.equal(r.status, 200)
      assert.equal(r.headers['x-a'], '1')
    }
  } finally { await running.shutdown('test') }
})

test('`gwc test` refuses it too', () => {
  for (const b of [wafBundle(), inlineWafBundle()]) {
    assert.throws(() => runSuite(b.manifest, b.moduleText, [{ request: 'GET http://x.test/limited', expect: { status: 200 } }]), REFUSAL)
  }
})
