// test/policies/headers-stage.test.ts: the `headers` policy's runtime factory means what the compiler's emission
// (head plans, runtime/head-plan.ts) does: for the same ops, the same headers out of the same headers in.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { CONTINUE } from '../../config/stage.js'
import { createHeadersStage } from '../../policies/headers/runtime.js'
import { instantiateBundle } from '../../runtime/bundle-loader.js'
import { RequestContext } from '../../runtime/context.js'
import type { HeadPlan } from '../../runtime/head-plan.js'
import { applyEdits } from '../../runtime/headers.js'
import { POLICIES } from '../../runtime/policies.js'
import { recordingDeps } from '../compiler/fake-stages.js'
import { bundleFrom } from '../helpers/gateway.js'
import type { HeadersStageIR } from '../../policies/headers/check.js'

const POLICY = `
route r {
  match path "/r"
  headers request set X-Env "prod", remove Cookie, set X-Env "test"
  headers response remove Server, set X-Frame-Options "DENY"
  headers request remove X-Debug
  respond 204
}
`

const context = () => new RequestContext({ headers: {} } as IncomingMessage, {} as ServerResponse, 0)

/** What a plan does to a list: every line of a name it sets or removes goes, its lines follow (applyEdits' meaning). */
const planned = (headers: string[], p: HeadPlan | null): string[] => {
  const out: string[] = []
  for (let i = 0; i < headers.length; i += 2) if (p === null || !p.drop.has(headers[i])) out.push(headers[i], headers[i + 1])
  return p === null ? out : [...out, ...p.pairs]
}

test('the runtime factory makes the edits the compiled head plans make, in order', () => {
  const b = bundleFrom(POLICY)
  const inline = context()
  const { handlers } = instantiateBundle(b.manifest, b.moduleText, recordingDeps().deps)
  handlers[0](inline)
  assert.equal(inline.reqEdits, null)
  assert.equal(inline.resEdits, null)
  const viaFactory = context()
  for (const stage of b.manifest.ir.routes[0].stages) {
    assert.equal(stage.kind, 'headers')
    const s = stage as HeadersStageIR
    assert.equal(createHeadersStage({ route: 'r', target: s.target, ops: s.ops })(viaFactory), CONTINUE)
  }
  assert.deepEqual(viaFactory.reqEdits, ['x-env', 'prod', 'cookie', null, 'x-env', 'test', 'x-debug', null])
  assert.deepEqual(viaFactory.resEdits, ['server', null, 'x-frame-options', 'DENY'])
  const base = ['Host', 'a.test', 'X-ENV', 'client', 'Cookie', 'a=1', 'X-Debug', '1', 'Server', 'nginx', 'X-Frame-Options', 'SAMEORIGIN', 'Accept', '*/*']
  assert.deepEqual(planned(base, inline.reqPlan), applyEdits([...base], viaFactory.reqEdits!))
  assert.deepEqual(planned(base, inline.resPlan), applyEdits([...base], viaFactory.resEdits!))
  assert.deepEqual(planned(base, inline.reqPlan), ['Host', 'a.test', 'Server', 'nginx', 'X-Frame-Options', 'SAMEORIGIN', 'Accept', '*/*', 'x-env', 'test'])
})

test('the registry builds it under its kind', () => {
  const ctx = context()
  const stage = POLICIES.get('headers')!.create({ route: 'r', target: 'response', ops: [{ op: 'set', name: 'x-a', value: '1' }] } as never, null as never)
  assert.equal(stage(ctx), CONTINUE)
  assert.deepEqual(ctx.resEdits, ['x-a', '1'])
  assert.equal(ctx.reqEdits, null)
})
