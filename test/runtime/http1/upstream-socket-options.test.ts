// test/runtime/http1/upstream-socket-options.test.ts (issue 14): the http1 pool's upstream sockets turn Nagle off
// and TCP keep-alive on (probes after 60 s idle), found by mutating runtime/http1/upstream-connection.ts: neither
// option shows in a response. Nagle holds a small write (a body chunk after the head) until the previous one is
// acknowledged; without keep-alive probes a connection whose upstream host vanished sits in the pool until a request
// finds it dead. Keep-alive is read from the kernel (/proc/net/tcp: the socket's keep-alive timer, set only with
// SO_KEEPALIVE); Node offers no getsockopt, so TCP_NODELAY is seen where Node sets it, on the socket's TCP handle.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, test } from 'node:test'
import { ok, RawUpstream, send } from './upstream-helpers.js'

const ups: RawUpstream[] = []
after(async () => { for (const u of ups) await u.close() })

/** /proc/net/tcp's timer for the IPv4 socket bound to `localPort` with peer port `remotePort`: [kind, seconds left]. */
function kernelTimer(localPort: number, remotePort: number): [number, number] | null {
  const hex = (p: number): string => p.toString(16).toUpperCase().padStart(4, '0')
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/)
    if (f.length < 6 || !f[1].endsWith(':' + hex(localPort)) || !f[2].endsWith(':' + hex(remotePort))) continue
    const [kind, when] = f[5].split(':')
    return [parseInt(kind, 16), parseInt(when, 16) / 100] // clock ticks, USER_HZ 100
  }
  return null
}

test('an upstream connection has TCP keep-alive on, first probe after 60 s idle, and Nagle off', async () => {
  // the pool's connect() options reach the TCP handle through these two methods (node's net.js, afterConnect)
  const { TCP } = (process as unknown as { binding(name: string): { TCP: { prototype: Record<string, (...a: unknown[]) => unknown> } } }).binding('tcp_wrap')
  const calls: string[] = []
  const saved = { setNoDelay: TCP.prototype.setNoDelay, setKeepAlive: TCP.prototype.setKeepAlive }
  for (const name of ['setNoDelay', 'setKeepAlive'] as const) {
    TCP.prototype[name] = function (this: unknown, ...a: unknown[]) { calls.push(`${name}(${a.join(', ')})`); return saved[name].apply(this, a) }
  }
  try {
    const up = await new RawUpstream(c => c.socket.write(ok('a'))).listen()
    ups.push(up)
    const pool = up.pool({ idleMs: 30_000 })
    assert.equal((await send(pool, { headers: ['host', 'h'] })).status, 200)
    assert.deepEqual(calls, ['setNoDelay(true)', 'setKeepAlive(true, 60)'])
    // the kernel's view of the pool's idle socket: a keep-alive timer (kind 2), due in at most 60 s
    const gwSide = up.conns[0].socket
    const timer = kernelTimer(gwSide.remotePort!, gwSide.localPort!)
    assert.ok(timer !== null, 'the connection is in /proc/net/tcp')
    assert.equal(timer[0], 2, 'a keep-alive timer is armed')
    assert.ok(timer[1] > 50 && timer[1] <= 60, `first probe in ${timer[1]} s`)
    await pool.close()
  } finally { Object.assign(TCP.prototype, saved) }
})
