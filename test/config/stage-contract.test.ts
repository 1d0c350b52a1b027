// The kernel's stage contract (config/stage.ts) is checked by the compiler: a stage returning anything but
// CONTINUE, a runtime-made Reply or a promise of one of those does not compile. Each `@ts-expect-error` line
// below must be a type error, or `tsc` (hence the build and the test run) fails.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { RequestContext as StageContext } from '../../config/context.js'
import { CONTINUE, type Continue, type Reply, type Stage, type StageResult } from '../../config/stage.js'
import { RequestContext } from '../../runtime/context.js'
import { errorReply } from '../../runtime/policy-api.js'
import { Reply as RuntimeReply } from '../../runtime/reply.js'

const FORBIDDEN = errorReply('GW_ERR_FORBIDDEN')

const stages: Stage[] = [
  () => CONTINUE,
  () => FORBIDDEN,
  // (an async stage names its result type: TypeScript widens a unique symbol returned from an async function)
  async (): Promise<Continue> => CONTINUE,
  ctx => (ctx.clientIp === '' ? Promise.resolve(FORBIDDEN) : CONTINUE),
  ctx => { ctx.setRequestHeader('x-a', '1'); ctx.state.claims = { sub: 'u' }; return CONTINUE },
]

// @ts-expect-error a stage must answer: undefined is not a StageResult
export const noAnswer: Stage = () => undefined
// @ts-expect-error nor is a string
export const text: Stage = () => 'ok'
// @ts-expect-error nor any other symbol than CONTINUE
export const otherSymbol: Stage = () => Symbol('continue')
// @ts-expect-error nor an object shaped like a reply: only the runtime's reply helpers make replies
export const handMade: Stage = () => ({ status: 200, body: null, contentType: 'text/plain', headers: [], code: '' })
// @ts-expect-error nor a promise of something else
export const later: Stage = async () => true
// @ts-expect-error a stage sees only the context interface, not the gateway's response object
export const peek: Stage = ctx => (ctx.res.headersSent ? CONTINUE : CONTINUE)
// @ts-expect-error the sentinel is the kernel's one constant, not a string
export const named: StageResult = 'CONTINUE'

test('the runtime context and replies are the kernel types; stages that type-check return what the pipeline expects', async () => {
  const ctx: StageContext = new RequestContext({ headers: {} } as IncomingMessage, {} as ServerResponse, 0)
  const reply: Reply = new RuntimeReply(204, null, 'text/plain', [], null)
  assert.equal(reply.status, 204)
  for (const s of stages) {
    const r = await s(ctx)
    assert.ok(r === CONTINUE || r instanceof RuntimeReply, `stage returned ${String(r)}`)
  }
})
