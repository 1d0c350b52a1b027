// test/runtime/http1/upstream-keepalive-hint.test.ts (issue 14): an upstream's Keep-Alive hint of two digits is
// read whole, found by mutating runtime/http1/upstream-connection.ts (its `timeout=(\d+)` read as one digit would
// take `timeout=10` for 1 s, less the 2 s margin: not reused at all). Against a raw upstream on node:net.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { ok, RawUpstream, send } from './upstream-helpers.js'

const ups: RawUpstream[] = []
after(async () => { for (const u of ups) await u.close() })

test('Keep-Alive: timeout=10 keeps the connection for the next request (8 s, not 1 s less the margin)', async () => {
  const up = await new RawUpstream(c => c.socket.write(ok('a', 'keep-alive: timeout=10, max=100\r\n'))).listen()
  ups.push(up)
  const pool = up.pool({ idleMs: 30_000 })
  for (let i = 0; i < 3; i++) assert.equal((await send(pool, { headers: ['host', 'h'] })).status, 200)
  assert.equal(up.conns.length, 1, 'one connection for the three requests')
  await pool.close()
})
