// lab/test/peers-cli.test.ts: each peer runs as its own process, prints the ready (or skipped) line the
// harness waits for, and can be probed: the floor under spawnProbed, nginx's tree from /proc.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import http from 'node:http'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { parsePeerLine, peerScript, PEER_LINE_RE, parseHostPort, parsePeerArgs } from '../peers/common.js'
import { nginxConf } from '../peers/nginx.js'
import { spawnProbed, createTreeProbe, perRequest } from '../probe/index.js'
import { runClosed } from '../../testkit/load/index.js'

let upstream: http.Server
let up = ''

before(async () => {
  upstream = http.createServer((req, res) => { req.resume(); res.end('pong') })
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
  up = `127.0.0.1:${(upstream.address() as AddressInfo).port}`
})
after(async () => { upstream.closeAllConnections(); await new Promise((r) => upstream.close(r)) })

test('peer arguments parse, with defaults', () => {
  assert.deepEqual(parseHostPort('[::1]:80'), { host: '::1', port: 80 })
  assert.deepEqual(parseHostPort(':8080'), { host: '127.0.0.1', port: 8080 })
  assert.deepEqual(parseHostPort('9000'), { host: '127.0.0.1', port: 9000 })
  assert.throws(() => parseHostPort('nope'), /bad address/)
  const a = parsePeerArgs(['--listen', '127.0.0.1:0', '--upstream', '127.0.0.1:1,127.0.0.1:2', '--connections', '8'])
  assert.equal(a.upstreams.length, 2)
  assert.equal(a.connections, 8)
  assert.equal(parsePeerArgs(['--listen', ':1', '--upstream', ':2']).connections, 128)
  assert.throws(() => parsePeerArgs(['--listen', ':1']), /usage/)
  const conf = nginxConf({ listen: { host: '127.0.0.1', port: 8083 }, upstreams: a.upstreams, connections: 8 }, '/tmp/x')
  assert.match(conf, /server 127\.0\.0\.1:1;\n\s+server 127\.0\.0\.1:2;\n\s+keepalive 8;/)
  assert.match(conf, /worker_processes 1;/)
  assert.match(conf, /daemon off;/)
  assert.match(conf, /access_log off;/)
  assert.match(conf, /proxy_set_header Connection "";/)
})

for (const name of ['floor', 'fastify-proxy', 'bytes'] as const) {
  test(`${name}: runs as a process, prints its ready line, serves, and stops on SIGTERM`, async () => {
    const c = spawn(process.execPath, [peerScript(name), '--listen', '127.0.0.1:0', '--upstream', up, '--connections', '4'], { stdio: ['ignore', 'pipe', 'inherit'] })
    try {
      const [chunk] = await once(c.stdout!, 'data')
      const line = parsePeerLine(String(chunk).trim())
      assert.ok(line?.kind === 'ready', String(chunk))
      assert.equal(line.name, name)
      assert.equal(line.pid, c.pid)
      const res = await fetch(line.url + '/x')
      assert.equal(res.status, 200)
      assert.equal(await res.text(), 'pong')
    } finally {
      c.kill('SIGTERM')
    }
    const [code] = await once(c, 'exit')
    assert.equal(code, 0)
  })
}

test('a peer given bad arguments exits 2 with its usage', async () => {
  const c = spawn(process.execPath, [peerScript('floor'), '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  c.stderr!.on('data', (d) => { err += String(d) })
  const [code] = await once(c, 'exit')
  assert.equal(code, 2)
  assert.match(err, /usage: --listen/)
})

test('the floor under spawnProbed: its CPU and heap per request are measured', async () => {
  const p = spawnProbed(process.execPath, [peerScript('floor'), '--listen', '127.0.0.1:0', '--upstream', up], { ready: PEER_LINE_RE })
  try {
    const line = parsePeerLine(await p.ready)
    assert.ok(line?.kind === 'ready')
    await p.start({ countRequests: true })
    const load = await runClosed({ url: line.url + '/', concurrency: 4, durationMs: 400 })
    const r = await p.stop()
    assert.equal(r.requests, load.requests.completed)
    const per = perRequest(r, load.requests.completed)
    assert.ok(per.cpuUsPerRequest > 1 && per.cpuUsPerRequest < 20_000, JSON.stringify(per))
    assert.ok((per.heapBytesPerRequest ?? 0) > 100, JSON.stringify(per))
  } finally {
    await p.kill()
  }
})

test('nginx: ready line with the master pid whose tree (master + worker) can be probed, or a skipped line', async () => {
  const c = spawn(process.execPath, [peerScript('nginx'), '--listen', '127.0.0.1:0', '--upstream', up, '--connections', '4'], { stdio: ['ignore', 'pipe', 'inherit'] })
  const [chunk] = await once(c.stdout!, 'data')
  const line = parsePeerLine(String(chunk).trim())
  assert.ok(line !== undefined, String(chunk))
  if (line.kind === 'skipped') {
    assert.match(line.reason, /not installed/)
    const [code] = await once(c, 'exit')
    assert.equal(code, 0)
    return
  }
  try {
    const probe = createTreeProbe(line.pid)
    probe.start()
    const load = await runClosed({ url: line.url + '/', concurrency: 2, durationMs: 300 })
    const r = probe.stop()
    assert.ok(load.requests.completed > 0 && load.errors.total === 0)
    assert.ok(r.pids.length >= 2, `master + worker: ${r.pids.join(',')}`)
    assert.ok(r.fds.end > 0)
  } finally {
    c.kill('SIGTERM')
  }
  const [code] = await once(c, 'exit')
  assert.equal(code, 0)
  assert.throws(() => process.kill(line.pid, 0), /ESRCH/, 'nginx is gone with its wrapper')
})

test('nginx missing: the skipped line and exit 0', async () => {
  const c = spawn(process.execPath, [peerScript('nginx'), '--listen', '127.0.0.1:0', '--upstream', up], {
    stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, GWP_NGINX: '/nonexistent/nginx' },
  })
  const [chunk] = await once(c.stdout!, 'data')
  const line = parsePeerLine(String(chunk).trim())
  assert.ok(line?.kind === 'skipped', String(chunk))
  assert.match(line.reason, /nginx not installed/)
  const [code] = await once(c, 'exit')
  assert.equal(code, 0)
})
