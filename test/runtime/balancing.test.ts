// test/runtime/balancing.test.ts: load balancing over real replicas: round_robin spreads evenly,
// least_conn avoids busy replicas, p2c_ewma avoids a slow one, every policy skips an ejected replica, and a
// weighted proxy split follows its weights. Assertions are on shares with generous bounds, not timings.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { request } from 'undici'
import type { Stub } from '../../testkit/upstream/stub.js'
import { deadAddress } from '../helpers/dead-address.js'
import { replicaAddrs, startRig, tally, waitFor, type Rig } from './fixtures.js'

let rig: Rig

const names = (group: string, n: number) => Array.from({ length: n }, (_, i) => ({ name: `${group}-${i + 1}` }))

before(async () => {
  const policy = (s: Stub) => `
upstream rr  { replicas ${replicaAddrs(s, 'rr')}; balance round_robin }
upstream lc  { replicas ${replicaAddrs(s, 'lc')}; balance least_conn }
upstream p2c { replicas ${replicaAddrs(s, 'p2c')}; balance p2c_ewma }
${['round_robin', 'least_conn', 'p2c_ewma', 'random'].map(b => `
upstream ej_${b} {
  replicas ${s.replicas.find(r => r.name === 'live-1')!.host}:${s.replicas.find(r => r.name === 'live-1')!.port} ${deadAddress()} ${s.replicas.find(r => r.name === 'live-2')!.host}:${s.replicas.find(r => r.name === 'live-2')!.port}
  balance ${b}
  health passive eject_after 1 errors for 60s
}
route ej_${b} { match path prefix "/ej/${b}"; timeout 3s; proxy ej_${b} }`).join('\n')}
upstream blue  { replicas ${replicaAddrs(s, 'blue')} }
upstream green { replicas ${replicaAddrs(s, 'green')} }

route rr    { match path prefix "/rr"; timeout 5s; proxy rr }
route lc    { match path prefix "/lc"; timeout 10s; proxy lc }
route p2c   { match path prefix "/p2c"; timeout 5s; proxy p2c }
route split { match path prefix "/split"; timeout 5s; proxy blue 80%, green 20% }
`
  rig = await startRig({
    replicas: [
      ...names('rr', 3), ...names('lc', 3),
      // p2c-1 takes 300 ms on every request; its siblings answer at once. Far above the stalls a loaded machine
      // gives a fast replica's answer (its peak EWMA keeps such a stall for seconds): at 80 ms a stall of one
      // fast replica made the slow one look better than it, and the shares failed under load.
      { name: 'p2c-1', rules: [{ path: '/', latency: 300 }] }, { name: 'p2c-2' }, { name: 'p2c-3' },
      ...names('live', 2), { name: 'blue-1' }, { name: 'green-1' },
    ],
  }, policy)
})
after(async () => { await rig.close() })

async function replicaOf(path: string, signal?: AbortSignal): Promise<{ status: number; replica: string }> {
  const res = await request(rig.gw.url + path, { dispatcher: rig.agent, signal })
  await res.body.dump()
  return { status: res.statusCode, replica: String(res.headers['x-stub-replica'] ?? '') }
}

/** Runs `n` requests with `concurrency` workers; returns the replica that answered each. */
async function spread(path: string, n: number, concurrency: number): Promise<string[]> {
  const out: string[] = []
  let next = 0
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n) { next++; const r = await replicaOf(path); assert.equal(r.status, 200); out.push(r.replica) }
  }))
  return out
}

test('round_robin: sequential requests rotate evenly over the replicas', async () => {
  const seen = []
  for (let i = 0; i < 30; i++) seen.push((await replicaOf('/rr/x')).replica)
  assert.deepEqual(tally(seen), { 'rr-1': 10, 'rr-2': 10, 'rr-3': 10 })
  // and strictly in turn
  for (let i = 3; i < seen.length; i++) assert.equal(seen[i], seen[i - 3])
})

test('round_robin: concurrent requests are spread evenly too', async () => {
  const t = tally(await spread('/rr/x', 60, 6))
  assert.deepEqual(Object.keys(t).sort(), ['rr-1', 'rr-2', 'rr-3'])
  for (const n of Object.values(t)) assert.ok(n >= 15 && n <= 25, JSON.stringify(t))
})

test('least_conn: while two replicas are busy, new requests go to the idle one', async () => {
  const ac = new AbortController()
  // two long requests (the stub's latency override) occupy two replicas
  const held = [replicaOf('/lc/slow?latency=5000', ac.signal).catch(() => null), replicaOf('/lc/slow?latency=5000', ac.signal).catch(() => null)]
  await waitFor(() => rig.stub.stats('lc').inFlight === 2, 3000, 'two requests in flight')
  try {
    const busy = rig.stub.stats('lc').replicas.filter(r => r.inFlight === 1).map(r => r.name)
    assert.equal(busy.length, 2, 'the two long requests went to different replicas')
    const seen = []
    for (let i = 0; i < 9; i++) seen.push((await replicaOf('/lc/x')).replica)
    const idle = ['lc-1', 'lc-2', 'lc-3'].find(n => !busy.includes(n))!
    assert.deepEqual(tally(seen), { [idle]: 9 })
  } finally {
    ac.abort()
    await Promise.all(held)
  }
  // all idle again: ties rotate, so every replica gets a share
  await waitFor(() => rig.stub.stats('lc').inFlight === 0, 3000, 'the long requests to end')
  const t = tally(await spread('/lc/x', 30, 1))
  assert.equal(Object.keys(t).length, 3, JSON.stringify(t))
})

test('p2c_ewma: a slow replica gets a small share, round_robin would give it a third', async () => {
  const seen = await spread('/p2c/x', 90, 3)
  const t = tally(seen)
  const slow = t['p2c-1'] ?? 0
  assert.ok(slow <= 90 * 0.12, `slow replica served ${slow} of 90: ${JSON.stringify(t)}`)
  assert.ok((t['p2c-2'] ?? 0) > 20 && (t['p2c-3'] ?? 0) > 20, `both fast replicas share the load: ${JSON.stringify(t)}`)
})

for (const b of ['round_robin', 'least_conn', 'p2c_ewma', 'random']) {
  test(`${b}: a replica ejected by passive health gets no more traffic`, async () => {
    // warm up: the dead replica fails (502) until it is ejected after its first failure
    let failures = 0
    for (let i = 0; i < 12; i++) if ((await replicaOf(`/ej/${b}/x`)).status === 502) failures++
    assert.ok(failures >= 1 && failures <= 2, `${failures} failures before ejection`)
    const seen = await spread(`/ej/${b}/x`, 40, 4) // spread() asserts every answer is 200
    const t = tally(seen)
    assert.deepEqual(Object.keys(t).sort(), ['live-1', 'live-2'], JSON.stringify(t))
    for (const n of Object.values(t)) assert.ok(n >= 6, `both live replicas serve: ${JSON.stringify(t)}`)
  })
}

test('a weighted split (80% / 20%) sends each upstream about its share', async () => {
  const t = tally(await spread('/split/x', 300, 6))
  const green = t['green-1'] ?? 0
  assert.equal((t['blue-1'] ?? 0) + green, 300)
  assert.ok(green >= 30 && green <= 95, `green got ${green} of 300 (expected about 60)`)
})
