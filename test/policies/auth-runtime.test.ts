// test/policies/auth-runtime.test.ts: the runtime half of `auth` (policies/auth/runtime.ts) refuses a bundle whose
// route names, as its provider, a declaration that is no provider: another policy's declaration under the same name.
// The compiler never emits such a bundle; a hand-edited or mismatched one must fail at load with the route and the
// name, not build a jwt stage out of whatever the declaration holds.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { pino } from 'pino'
import { loadSettings } from '../../config/settings.js'
import type { DeclarationIR } from '../../config/ir.js'
import { policy } from '../../policies/auth/runtime.js'
import { GatewayMetrics } from '../../runtime/metrics.js'
import { createStageEnv } from '../../runtime/stage-env.js'

test('a route whose provider is a declaration of another kind is refused at load, alone or in an or-list', () => {
  const other: DeclarationIR = { kind: 'zone', name: 'idp', source: { file: 'p.gwp', line: 3, col: 1 } } as DeclarationIR
  const shared = new Map<string, unknown>()
  const env = createStageEnv({ declarations: [other], identityHeaders: [] }, {
    settings: loadSettings(undefined, {}), metrics: new GatewayMetrics({ defaultMetrics: false }), log: pino({ level: 'silent' }), redis: null,
    shared: <T>(k: string, create: () => T): T => { if (!shared.has(k)) shared.set(k, create()); return shared.get(k) as T },
    offline: null,
  })
  const message = 'auth of route "orders" names unknown provider "idp"'
  assert.throws(() => policy.create({ route: 'orders', provider: 'idp', audience: [] } as never, env), { message })
  assert.throws(() => policy.create({ route: 'orders', provider: 'idp', or: ['idp'], audience: [] } as never, env), { message })
})
