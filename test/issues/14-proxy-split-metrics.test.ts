// Issue 14 (mutation target, upstream area), runtime/upstream/proxy.ts: the failover counters a weighted split
// binds at load. Each ordered pair of different upstreams of the split has its gw_upstream_failovers_total
// series from the start (0 until a request fails over), and an upstream never has one towards itself.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { metric, startGateway, type TestGateway } from '../helpers/gateway.js'
import { startRecordingUpstream, type RecordingUpstream } from '../helpers/recording-upstream.js'

let a: RecordingUpstream, b: RecordingUpstream, c: RecordingUpstream
let gw: TestGateway

before(async () => {
  ;[a, b, c] = await Promise.all([startRecordingUpstream(1), startRecordingUpstream(1), startRecordingUpstream(1)])
  gw = await startGateway(`
upstream ua { replicas ${a.addrs} }
upstream ub { replicas ${b.addrs} }
upstream uc { replicas ${c.addrs} }
route split { match path prefix "/split"; timeout 2s; proxy ua 60%, ub 30%, uc 10% }
route one   { match path prefix "/one"; timeout 2s; proxy uc }
`)
})
after(async () => { await gw?.close(); await Promise.all([a, b, c].map(u => u?.close())) })

test('a split binds one failover series per ordered pair of its upstreams, none from an upstream to itself', async () => {
  const text = await (await fetch(gw.adminUrl + '/metrics', { signal: AbortSignal.timeout(5000) })).text()
  for (const from of ['ua', 'ub', 'uc']) {
    for (const to of ['ua', 'ub', 'uc']) {
      const v = metric(text, 'gw_upstream_failovers_total', { from, to })
      if (from === to) assert.equal(v, undefined, `${from} -> ${to} is never a failover`)
      else assert.equal(v, 0, `${from} -> ${to}`)
    }
  }
})
