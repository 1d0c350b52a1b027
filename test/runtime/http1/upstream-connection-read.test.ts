// test/runtime/http1/upstream-connection-read.test.ts (issue 14): how the http1 pool's connection reads, found by
// mutating runtime/http1/upstream-connection.ts: bytes an idle connection receives (nobody asked for them) make it
// unusable, so they are never taken for the next request's answer; a response head split across reads is waited
// for, not parsed half. Against raw upstreams on node:net.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import { sleep } from '../../helpers/wire.js'
import { ok, RawUpstream, send } from './upstream-helpers.js'

const ups: RawUpstream[] = []
after(async () => { for (const u of ups) await u.close() })

test('bytes on an idle connection (a stale answer nobody asked for): the connection is dropped, the next request gets its own answer on a new one', async () => {
  let n = 0
  const up = await new RawUpstream(c => {
    n++
    c.socket.write(ok(`answer-${n}`))
    // after the first answer, while the connection sits idle in the pool: a second, unsolicited answer
    if (n === 1) setTimeout(() => c.socket.write(ok('stale')), 30)
  }).listen()
  ups.push(up)
  const pool = up.pool()
  assert.equal((await send(pool, { headers: ['host', 'h'] })).body.toString(), 'answer-1')
  await sleep(150)
  assert.equal(up.conns[0].closed, true, 'the connection that got bytes while idle is closed')
  const second = await send(pool, { headers: ['host', 'h'] })
  assert.equal(second.error, null)
  assert.equal(second.body.toString(), 'answer-2')
  assert.equal(up.conns.length, 2)
  await pool.close()
})

test('a response head that arrives in pieces is read whole once its blank line is in', async () => {
  const up = await new RawUpstream(c => {
    const answer = ok('split')
    c.socket.write(answer.slice(0, 12)) // "HTTP/1.1 200"
    setTimeout(() => c.socket.write(answer.slice(12, 30)), 20)
    setTimeout(() => c.socket.write(answer.slice(30)), 40)
  }).listen()
  ups.push(up)
  const pool = up.pool()
  const r = await send(pool, { headers: ['host', 'h'] })
  assert.equal(r.error, null)
  assert.deepEqual([r.status, r.body.toString()], [200, 'split'])
  await pool.close()
})
