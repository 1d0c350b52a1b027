// test/issues/14-headers-stage-calls.test.ts: the `headers` runtime factory (policies/headers/runtime.ts) against
// the RequestContext interface (config/context.ts), with a context that records which method each edit calls:
// a `set` calls set…Header with its value, a `remove` calls remove…Header (whatever value its IR carries), on the
// request or the response as the target says. headers-stage compares the factory with the inline emission
// through the gateway's context, which records a remove and a set-to-null alike; this tells them apart.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { CONTINUE } from '../../config/stage.js'
import { createHeadersStage } from '../../policies/headers/runtime.js'

function spy() {
  const calls: string[] = []
  const ctx = {
    setRequestHeader: (n: string, v: unknown) => { calls.push(`setRequestHeader ${n}=${String(v)}`) },
    removeRequestHeader: (n: string) => { calls.push(`removeRequestHeader ${n}`) },
    setResponseHeader: (n: string, v: unknown) => { calls.push(`setResponseHeader ${n}=${String(v)}`) },
    removeResponseHeader: (n: string) => { calls.push(`removeResponseHeader ${n}`) },
  }
  return { ctx, calls }
}
const ops = [
  { op: 'set', name: 'x-a', value: '1' }, { op: 'remove', name: 'x-b', value: null }, { op: 'remove', name: 'x-c', value: 'stale' },
] as const

test('request target: set calls setRequestHeader, remove calls removeRequestHeader (its value ignored), in order', () => {
  const { ctx, calls } = spy()
  assert.equal(createHeadersStage({ route: 'r', target: 'request', ops: [...ops] } as never)(ctx as never), CONTINUE)
  assert.deepEqual(calls, ['setRequestHeader x-a=1', 'removeRequestHeader x-b', 'removeRequestHeader x-c'])
})

test('response target: set calls setResponseHeader, remove calls removeResponseHeader (its value ignored), in order', () => {
  const { ctx, calls } = spy()
  assert.equal(createHeadersStage({ route: 'r', target: 'response', ops: [...ops] } as never)(ctx as never), CONTINUE)
  assert.deepEqual(calls, ['setResponseHeader x-a=1', 'removeResponseHeader x-b', 'removeResponseHeader x-c'])
})
