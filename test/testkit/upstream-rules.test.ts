// test/testkit/upstream-rules.test.ts: rule matching, latency and error injection through real requests,
// determinism per seed, query overrides, runtime rule changes (API and /__stub/rules), config files.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { Agent, request } from 'undici'
import { loadStubConfig, parseStubConfig, patternSha256, startStub, type RuleSpec, type Stub } from '../../testkit/upstream/stub.js'

const agent = new Agent({ keepAliveTimeout: 2000 })
const stubs: Stub[] = []
after(async () => {
  await agent.close()
  await Promise.all(stubs.map((s) => s.close()))
})
const start = async (opts: Parameters<typeof startStub>[0]): Promise<Stub> => {
  const s = await startStub(opts)
  stubs.push(s)
  return s
}
const call = (url: string, opts: { method?: string; body?: string } = {}) => request(url, { ...opts, dispatcher: agent } as Parameters<typeof request>[1])
async function json(url: string, opts: { method?: string; body?: string } = {}): Promise<{ status: number; headers: Record<string, unknown>; body: any }> {
  const res = await call(url, opts)
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, body: text === '' ? undefined : JSON.parse(text) }
}

/** Statuses and traced latency draws of n sequential requests. */
async function sequence(url: string, n: number): Promise<string[]> {
  const out: string[] = []
  for (let i = 0; i < n; i++) {
    const r = await json(url)
    out.push(`${r.status}@${r.headers['x-stub-latency-ms']}`)
  }
  return out
}

// Sub-millisecond draws round to no wait at all, so these tests exercise the draws without sleeping.
const FAST_FLAKY: RuleSpec[] = [{ path: '/', latency: { dist: 'lognormal', p50: 0.1, p99: 0.4 }, error: { rate: '30%', status: 503 }, trace: true }]

test('the longest matching prefix wins, on segment boundaries', async () => {
  const stub = await start({ rules: [
    { path: '/v1', status: 201 }, { path: '/v1/payments', status: 202 }, { path: '/v1/payments/refunds/', status: 203 },
  ] })
  const cases: [string, number, string][] = [
    ['/v1/payments/42', 202, '/v1/payments'], ['/v1/payments', 202, '/v1/payments'], ['/v1/paymentsx', 201, '/v1'],
    ['/v1', 201, '/v1'], ['/v1x', 200, '/'], ['/other', 200, '/'], ['/v1/payments/refunds/9', 203, '/v1/payments/refunds/'],
  ]
  for (const [path, status, rule] of cases) {
    const r = await json(stub.url() + path)
    assert.equal(r.status, status, path)
    assert.equal(r.body.rule, rule, path)
  }
})

test('same seed gives the same statuses and draws; another seed or a reset replays or changes them', async () => {
  const a = await start({ seed: 42, rules: FAST_FLAKY })
  const b = await start({ seed: 42, rules: FAST_FLAKY })
  const c = await start({ seed: 43, rules: FAST_FLAKY })
  const seqA = await sequence(a.url() + '/x', 40)
  assert.deepEqual(await sequence(b.url() + '/x', 40), seqA)
  assert.notDeepEqual(await sequence(c.url() + '/x', 40), seqA)
  a.reset()
  assert.deepEqual(await sequence(a.url() + '/y', 40), seqA, 'reset rewinds the stream; the path does not matter')
  assert.ok(seqA.some((s) => s.startsWith('503')) && seqA.some((s) => s.startsWith('200')))
})

test('replicas of one stub have independent streams', async () => {
  const s = await start({ seed: 42, count: 2, name: 'pay', rules: FAST_FLAKY })
  assert.notDeepEqual(await sequence(s.url('pay-1') + '/', 30), await sequence(s.url('pay-2') + '/', 30))
})

test('an injected 30% error rate over 300 requests stays within tolerance', async () => {
  const stub = await start({ seed: 7, rules: [{ path: '/flaky', error: { rate: 0.3, status: 503 } }] })
  let errors = 0
  for (let i = 0; i < 300; i++) {
    const r = await json(stub.url() + '/flaky/op')
    if (r.status === 503) { errors++; assert.equal(r.body.error, 'injected') } else assert.equal(r.status, 200)
  }
  assert.ok(errors > 0.3 * 300 - 25 && errors < 0.3 * 300 + 25, `errors ${errors}`)
  assert.equal((await json(stub.url() + '/other')).status, 200, 'other paths are unaffected')
})

test('rule latency delays the answer; other paths answer at once', async () => {
  const stub = await start({ rules: [{ path: '/slow', latency: 120 }, { path: '/jitter', latency: { dist: 'uniform', min: 60, max: 80 } }] })
  let t0 = performance.now()
  await json(stub.url() + '/slow')
  assert.ok(performance.now() - t0 >= 110)
  t0 = performance.now()
  await json(stub.url() + '/jitter')
  assert.ok(performance.now() - t0 >= 55)
  t0 = performance.now()
  await json(stub.url() + '/fast')
  assert.ok(performance.now() - t0 < 50)
})

test('size pads the JSON body to exactly that many bytes; mode bytes sends the pattern', async () => {
  const stub = await start({ rules: [{ path: '/big', size: 2048 }, { path: '/blob', mode: 'bytes', size: 5000, status: 206 }] })
  const big = await call(stub.url() + '/big')
  const text = await big.body.text()
  assert.equal(Buffer.byteLength(text), 2048)
  assert.equal(JSON.parse(text).replica, 'stub-1')
  const blob = await call(stub.url() + '/blob')
  assert.equal(blob.statusCode, 206)
  const bytes = Buffer.from(await blob.body.arrayBuffer())
  assert.equal(bytes.length, 5000)
  assert.equal(createHash('sha256').update(bytes).digest('hex'), patternSha256(5000))
})

test('modes reuse the built-in behaviours; error actions reset or hang', async () => {
  const stub = await start({ rules: [
    { path: '/api/echo', mode: 'echo' }, { path: '/api/sse', mode: 'sse' }, { path: '/dead', error: { rate: 1, action: 'reset' } },
    { path: '/stuck', error: { rate: 1, action: 'hang' } }, { path: '/h', headers: { 'cache-control': 'max-age=5' } },
  ] })
  const echo = await json(stub.url() + '/api/echo/x', { method: 'POST', body: 'abc' })
  assert.equal(echo.body.url, '/api/echo/x')
  assert.equal(echo.body.bodyBytes, 3)
  const sse = await call(stub.url() + '/api/sse?n=2&interval=5')
  assert.equal(sse.headers['content-type'], 'text/event-stream')
  assert.equal((await sse.body.text()).split('\n\n').length - 1, 2)
  await assert.rejects(call(stub.url() + '/dead'))
  await assert.rejects(request(stub.url() + '/stuck', { dispatcher: agent, signal: AbortSignal.timeout(100) }))
  assert.equal((await json(stub.url() + '/h')).headers['cache-control'], 'max-age=5')
  assert.equal(stub.stats().resets, 1)
})

test('query overrides: latency, status, size, mode; bad values are a 400', async () => {
  const stub = await start({ rules: [{ path: '/', error: { rate: 1 } }] })
  const t0 = performance.now()
  const slow = await json(stub.url() + '/q?latency=100&status=200')
  assert.ok(performance.now() - t0 >= 90)
  assert.equal(slow.status, 200, 'status= also switches injected errors off')
  assert.equal((await json(stub.url() + '/q?status=500')).status, 500)
  const sized = await call(stub.url() + '/q?size=1024&status=200')
  assert.equal(Buffer.byteLength(await sized.body.text()), 1024)
  assert.equal((await json(stub.url() + '/q?mode=echo&status=200')).body.method, 'GET')
  assert.equal((await json(stub.url() + '/q?other=1')).status, 503, 'unrelated keys leave the rule alone')
  for (const bad of ['status=99', 'latency=-1', 'size=x', 'mode=teapot']) {
    const r = await json(stub.url() + '/q?' + bad)
    assert.equal(r.status, 400, bad)
    assert.equal(r.body.error, 'bad_request')
  }
})

test('setRules changes a group at runtime; bad rules throw and change nothing', async () => {
  const stub = await start({ services: [{ name: 'payments', ports: [0, 0] }, { name: 'catalog', ports: [0] }] })
  stub.setRules('payments', [{ path: '/', status: 299 }])
  assert.equal((await json(stub.url('payments-1') + '/a')).status, 299)
  assert.equal((await json(stub.url('payments-2') + '/a')).status, 299)
  assert.equal((await json(stub.url('catalog-1') + '/a')).status, 200)
  assert.throws(() => stub.setRules(undefined, [{ path: 'no-slash' }]), /path/)
  assert.throws(() => stub.setRules('nobody', []), /no replica or group named "nobody"/)
  assert.equal((await json(stub.url('payments-1') + '/a')).status, 299)
  stub.setRules(undefined, [])
  assert.equal((await json(stub.url('payments-1') + '/a')).status, 200)
})

test('POST /__stub/rules replaces rules over HTTP for this replica, a group, or everyone', async () => {
  const stub = await start({ services: [{ name: 'payments', ports: [0, 0] }, { name: 'catalog', ports: [0] }] })
  const slow = JSON.stringify([{ path: '/v1', status: 250, latency: { dist: 'lognormal', p50: 200, p99: 800 }, error: { rate: '30%' } }])
  let r = await json(stub.url('catalog-1') + '/__stub/rules?target=payments', { method: 'POST', body: slow })
  assert.equal(r.status, 200)
  assert.deepEqual(r.body.replicas, ['payments-1', 'payments-2'])
  r = await json(stub.url('payments-2') + '/__stub/rules')
  assert.equal(r.body['payments-2'][0].latency.p50, 200)
  assert.equal(r.body['payments-2'][0].error.rate, 0.3)
  r = await json(stub.url('payments-1') + '/__stub/rules', { method: 'POST', body: '[{"path": 5}]' })
  assert.equal(r.status, 400)
  assert.match(r.body.message, /rules\[0\]\.path/)
  assert.equal((await json(stub.url('payments-1') + '/__stub/rules')).body['payments-1'].length, 1, 'unchanged')
  assert.equal((await json(stub.url('payments-1') + '/__stub/rules', { method: 'POST', body: '{' })).status, 400)
  assert.equal((await json(stub.url('payments-1') + '/__stub/rules?target=nope', { method: 'POST', body: '[]' })).status, 404)
  r = await json(stub.url('payments-1') + '/__stub/rules?target=*', { method: 'POST', body: '{"rules": []}' })
  assert.deepEqual(r.body.replicas, ['payments-1', 'payments-2', 'catalog-1'])
  assert.equal((await json(stub.url('payments-2') + '/v1')).status, 200)
})

test('config files: YAML with rules and services, bare lists, and errors naming the field', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stub-cfg-'))
  try {
    const file = join(dir, 'stub.yaml')
    await writeFile(file, [
      'seed: 42',
      'rules:',
      '  - path: /v1/payments',
      '    latency: { dist: lognormal, p50: 200, p99: 800 }',
      '    error: { rate: 30%, status: 503 }',
      '  - path: /',
      '    latency: 1',
      'services:',
      '  - { name: payments, ports: [9001, 9002, 9003] }',
      '  - name: catalog',
      '    ports: [9011]',
      '    rules: [{ path: /, size: 512 }]',
    ].join('\n'))
    const cfg = await loadStubConfig(file)
    assert.equal(cfg.seed, 42)
    assert.deepEqual(cfg.rules?.[0].error, { rate: 0.3, status: 503 })
    assert.deepEqual(cfg.services?.map((s) => [s.name, s.ports.length]), [['payments', 3], ['catalog', 1]])
    assert.equal(cfg.services?.[1].rules?.[0].size, 512)
    assert.deepEqual(parseStubConfig([{ name: 'a', ports: [0] }]).services?.[0].name, 'a')
    assert.equal(parseStubConfig([{ path: '/x', latency: 3 }]).rules?.[0].path, '/x')
    assert.throws(() => parseStubConfig({ rules: [{ path: '/', latncy: 1 }] }), /rules\[0\]: unknown field "latncy"/)
    assert.throws(() => parseStubConfig({ services: [{ name: 'a', ports: [70000] }] }), /services\[0\]\.ports\[0\]/)
    assert.throws(() => parseStubConfig({ rules: [{ path: '/', error: { rate: 2 } }] }), /error\.rate/)
    assert.throws(() => parseStubConfig({ rules: [{ path: '/' }, { path: '/' }] }), /duplicate/)
  } finally { await rm(dir, { recursive: true, force: true }) }
})

test('startStub rejects duplicate names and a port in use, closing what it started', async () => {
  await assert.rejects(startStub({ replicas: [{ name: 'a-1' }, { name: 'a-1' }] }), /duplicate replica name/)
  const taken = await start({})
  await assert.rejects(startStub({ replicas: [{ name: 'x-1' }, { name: 'x-2', port: taken.replicas[0].port }] }), /EADDRINUSE/)
})
