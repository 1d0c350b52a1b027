// test/policies/headers-stage.test.ts: the `headers` policy's runtime factory means what the compiler's inline
// emission does: for the same ops, the same edits on the request context, in the same order.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { CONTINUE } from '../../config/stage.js'
import { createHeadersStage } from '../../policies/headers/runtime.js'
import { instantiateBundle } from '../../runtime/bundle-loader.js'
import { RequestContext } from '../../runtime/context.js'
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

test('the runtime factory makes the edits the inline emission makes, in order', () => {
  const b = bundleFrom(POLICY)
  const inline = context()
  const { handlers } = instantiateBundle(b.manifest, b.moduleText, recordingDeps().deps)
  handlers[0](inline)
  const viaFactory = context()
  for (const stage of b.manifest.ir.routes[0].stages) {
    assert.equal(stage.kind, 'headers')
    const s = stage as HeadersStageIR
    assert.equal(createHeadersStage({ route: 'r', target: s.target, ops: s.ops })(viaFactory), CONTINUE)
  }
  assert.deepEqual(viaFactory.reqEdits, ['x-env', 'prod', 'cookie', null, 'x-env', 'test', 'x-debug', null])
  assert.deepEqual(viaFactory.resEdits, ['server', null, 'x-frame-options', 'DENY'])
  assert.deepEqual(inline.reqEdits, viaFactory.reqEdits)
  assert.deepEqual(inline.resEdits, viaFactory.resEdits)
})

test('the registry builds it under its kind', () => {
  const ctx = context()
  const stage = POLICIES.get('headers')!.create({ route: 'r', target: 'response', ops: [{ op: 'set', name: 'x-a', value: '1' }] } as never, null as never)
  assert.equal(stage(ctx), CONTINUE)
  assert.deepEqual(ctx.resEdits, ['x-a', '1'])
  assert.equal(ctx.reqEdits, null)
})
