// lab/experiments/jwks-rotation.ts: JWKS rotation under load — steady authenticated load with tokens of three
// keys (RS256, ES256, EdDSA); the IdP rotates its RS256 signing key mid-run, the load switches to tokens of the new
// key, then the old key is retired. A trickle of old-key tokens runs throughout: it must turn from 200 into clean
// 401s once gw's cache has refreshed. (Report and charts: jwks-rotation-report.ts.)
import { digestLoad } from '../harness/measure.js'
import { parseDuration } from '../../testkit/load/duration.js'
import { call, groupPorts, replicaList, startGwPolicy, startIdpProcess, startStubProcess } from '../harness/rig.js'
import { readLoadTokens } from '../../testkit/idp/load-tokens.js'
import type { MixEntry } from '../../testkit/load/index.js'
import { runExperiment, writeExperiment, type ExperimentOptions, type Flavour, type ResultHeader } from '../harness/lifecycle.js'
import { sleepUntil } from './common.js'
import { analyzeRotation, rotationChecks, rotationCharts, rotationMarkdown, type RotationRun } from './jwks-rotation-report.js'
import { runPhasedLoad } from './phases.js'
import { gwReader, startPoller } from './poller.js'
import { formatChecks } from './report.js'
import { startTrace } from './tracer.js'

export interface RotationConfig {
  warmupMs: number
  rate: number
  oldKeyRate: number
  /** Earliest rotation (seconds on the time line); it is moved to 1 s after gw's next background JWKS fetch. */
  rotateAfterS: number
  /** From the rotation to the switch of the load to new-key tokens: shorter than a refresh interval, so the first
   *  new-key tokens meet a kid gw has not fetched yet (the unknown-kid path), not one a background refresh brought. */
  switchDelayS: number
  /** From the switch to the retirement of the old key, and after one refresh interval past it, to the end. */
  retireAfterS: number
  tailS: number
  /** gw's JWKS refresh interval and how early it refreshes (so a background fetch comes every refresh − ahead). */
  refresh: string
  refreshAhead: string
  tokens: number
  newTokens: number
  pollMs: number
}

const CONFIGS: Record<Flavour, RotationConfig> = {
  quick: { warmupMs: 2000, rate: 300, oldKeyRate: 20, rotateAfterS: 8, switchDelayS: 1.5, retireAfterS: 8, tailS: 4, refresh: '15s', refreshAhead: '1s', tokens: 300, newTokens: 100, pollMs: 250 },
  full: { warmupMs: 4000, rate: 300, oldKeyRate: 20, rotateAfterS: 20, switchDelayS: 2, retireAfterS: 25, tailS: 8, refresh: '30s', refreshAhead: '2s', tokens: 1000, newTokens: 300, pollMs: 250 },
}

/** The events' times, seconds on the time line. */
export interface RotationSchedule { rotateS: number; switchS: number; retireS: number; endS: number; everyMs: number }

/**
 * Places the rotation 1 s after one of gw's background JWKS fetches (they come every refresh − refresh_ahead after
 * the first, made when gw loaded: `fetch0`, wall ms), at the earliest `rotateAfterS` after the origin; the switch,
 * the retirement and the end follow at the configured distances, the end one refresh interval past the retirement.
 */
export function rotationSchedule(c: RotationConfig, fetch0: number, origin: number): RotationSchedule {
  const everyMs = parseDuration(c.refresh) - parseDuration(c.refreshAhead)
  const earliest = origin + c.rotateAfterS * 1000 - 1000
  const k = Math.max(0, Math.ceil((earliest - fetch0) / everyMs))
  const r1 = (x: number): number => Math.round(x * 10) / 10
  const rotateS = r1((fetch0 + k * everyMs + 1000 - origin) / 1000)
  const switchS = r1(rotateS + c.switchDelayS)
  const retireS = r1(switchS + c.retireAfterS)
  return { rotateS, switchS, retireS, endS: r1(retireS + everyMs / 1000 + c.tailS), everyMs }
}

export const ISSUER = 'https://idp.bench.test/'
export const AUDIENCE = 'bench-api'

export function rotationPolicy(c: RotationConfig, ports: number[], jwksUrl: string): string {
  return `# written by lab/experiments/jwks-rotation.ts
upstream api {
  replicas ${replicaList(ports)}
  pool connections 64 idle 30s
}

jwt idp {
  issuer ${JSON.stringify(ISSUER)}
  jwks ${JSON.stringify(jwksUrl)} refresh ${c.refresh} refresh_ahead ${c.refreshAhead}
  audience ${JSON.stringify(AUDIENCE)}
}

route account {
  match path prefix "/v1/account"
  auth idp
  timeout 2s
  proxy api
}
`
}

export interface RotationResult extends ResultHeader {
  config: RotationConfig
  schedule: RotationSchedule
  run: RotationRun
  checks: ReturnType<typeof rotationChecks>
}

const mixOf = (tokens: string[]): MixEntry[] => tokens.map((t) => ({ method: 'GET', path: '/v1/account/me', headers: { authorization: `Bearer ${t}` } }))

export async function runJwksRotation(o: ExperimentOptions): Promise<RotationResult> {
  const c = CONFIGS[o.flavour]
  let schedule: RotationSchedule | null = null
  const { header, value: run } = await runExperiment('jwks-rotation', o, 'gwp JWKS rotation under load', async (env) => {
    const { sup, dir, log } = env
    const stub = await startStubProcess(sup, dir, { seed: 5, services: [{ name: 'api', ports: [0, 0, 0], rules: [{ path: '/', latency: { dist: 'uniform', min: 1, max: 3 } }] }] })
    log('starting the IdP and pre-signing load tokens (RS256, ES256, EdDSA keys)…')
    const idp = await startIdpProcess(sup, dir, ISSUER, c.tokens, AUDIENCE)
    const idpUrl = new URL(idp.jwksUrl).origin
    const pool = await readLoadTokens(idp.tokensFile)
    const oldKey = pool.keys.find((k) => k.alg === 'RS256' && k.current)
    if (oldKey === undefined) throw new Error('idp: no current RS256 key')
    const oldTokens = pool.tokens.filter((t) => t.kid === oldKey.kid).map((t) => t.token)
    const gw = await startGwPolicy(sup, dir, 'jwks', rotationPolicy(c, groupPorts(stub.ports, 'api'), idp.jwksUrl))
    const fetch0 = Date.now() // gw fetches the JWKS while it loads, before it says it serves
    log(`keys: ${pool.keys.map((k) => `${k.kid} (${k.alg})`).join(', ')}; ${pool.tokens.length} load tokens, ${oldTokens.length} of them by the RS256 key that will be retired`)
    const steadyMix = mixOf(pool.tokens.map((t) => t.token))
    // Warm-up: every load token verified once (the verified-token cache is warm, as in production).
    await runPhasedLoad({ url: gw.url, mix: steadyMix, rate: c.rate, origin: Date.now(), phases: [{ id: 'warm', startS: 0, endS: c.warmupMs / 1000 }] })
    await call('POST', `${idpUrl}/admin/reset`)
    const origin = Date.now() + 300
    const sc = rotationSchedule(c, fetch0, origin)
    schedule = sc
    log(`schedule: rotate at ${sc.rotateS} s (1 s after a background fetch), switch at ${sc.switchS} s, retire at ${sc.retireS} s, end at ${sc.endS} s`)
    const poller = startPoller(c.pollMs, gwReader(gw.adminUrl, []))
    const idpPoller = startPoller(500, async () => ({ 'idp.fetches': ((await call('GET', `${idpUrl}/admin/stats`, undefined, 1000)).body as { fetches: number }).fetches }))
    await sleepUntil(origin)
    const probe = startTrace({ url: gw.url, rate: c.oldKeyRate, durationMs: sc.endS * 1000, mix: mixOf(oldTokens).map((m) => ({ path: m.path, headers: m.headers })), connections: 8 })
    let newKid = ''
    let newTokens: string[] = []
    const events: { at: number; what: string }[] = []
    // The rotation happens inside the steady phase, on its own timer; the new tokens are minted right after it.
    const rotation = (async () => {
      await sleepUntil(origin + sc.rotateS * 1000)
      events.push({ at: Date.now(), what: 'rotate' })
      const r = await call('POST', `${idpUrl}/admin/rotate?alg=RS256`)
      newKid = (r.body as { kid: string }).kid
      for (let i = 0; i < c.newTokens; i++) {
        const t = await call('GET', `${idpUrl}/admin/token?alg=RS256&sub=user-${i}&aud=${AUDIENCE}&ttl=2h&tid=tenant-${i % 10}`)
        newTokens.push((t.body as { token: string }).token)
      }
      log(`  rotated RS256: new key ${newKid}; minted ${newTokens.length} tokens with it`)
    })()
    const retire = (async () => {
      await sleepUntil(origin + sc.retireS * 1000)
      events.push({ at: Date.now(), what: 'retire' })
      const r = await call('POST', `${idpUrl}/admin/retire?kid=${encodeURIComponent(oldKey.kid)}`)
      log(`  retired ${oldKey.kid}: ${r.status}`)
    })()
    const phases = await runPhasedLoad({
      url: gw.url, rate: c.rate, origin, connections: 32, mix: steadyMix,
      phases: [
        { id: 'steady', startS: 0, endS: sc.switchS },
        { id: 'new-key', startS: sc.switchS, endS: sc.endS, action: async () => { await rotation; events.push({ at: Date.now(), what: 'switch' }) } },
      ],
      // The second phase's mix is only known after the rotation: runPhasedLoad reads it through this hook.
      mixFor: (id) => (id === 'new-key' ? mixOf(newTokens) : steadyMix),
    })
    await retire
    const records = await probe.done
    const samples = await poller.stop()
    const idpSamples = await idpPoller.stop()
    const stats = (await call('GET', `${idpUrl}/admin/stats`)).body as { fetches: number }
    return analyzeRotation({
      config: c, schedule: sc, origin, oldKid: oldKey.kid, newKid, events, samples, idpSamples, idpFetchesTotal: stats.fetches, records,
      phases: phases.map((p) => ({ id: p.id, startS: p.startS, endS: p.endS, loadStartedAt: p.result.startedAt, load: digestLoad(p.result) })),
    })
  })
  const result: RotationResult = { ...header, config: c, schedule: schedule!, run, checks: rotationChecks(run) }
  ;(o.log ?? console.log)('\nchecks:\n' + formatChecks(result.checks))
  await writeExperiment(result, (charts) => rotationMarkdown(result, charts), rotationCharts(result), o)
  return result
}
