// The compile half of `ratelimit`: `ratelimit by user|ip|header NAME|claim NAME N per WINDOW [burst N]
// [local|redis] [fail_open|fail_closed]`. Checking is check.ts, the options emit.ts, the YAML mapping yaml.ts.
import {
  choice, dur, fields, formatQty, keyword, name, options, printName, printOptions, quantity, valueChange, words,
  type A, type Choice, type CompilePolicy, type LexHint,
} from '../../compiler/policy-api.js'
import { checkRatelimitStage, type RatelimitStmt } from './check.js'
import { emitRatelimit } from './emit.js'
import type { RateLimitKeyIR, RateLimitStageIR } from './check.js'
import { readRatelimits } from './yaml.js'

const keyText = (k: RateLimitKeyIR): string => (k.kind === 'header' ? `header ${k.header}` : k.kind === 'claim' ? `claim ${k.claim}` : k.kind)

const describe = (s: RateLimitStageIR): string =>
  `ratelimit ${keyText(s.key)} ${s.limit}/${formatQty('duration', s.windowMs)}${s.burst > 0 ? ` burst ${s.burst}` : ''}${s.store === 'redis' ? ` redis ${s.failOpen ? 'fail_open' : 'fail_closed'}` : ''}`

/** Rate windows people write after `/` (`50/s`), as the language writes them. */
const RATE_WINDOWS: [RegExp, string][] = [[/^(s|secs?|seconds?)$/i, '1s'], [/^(m|mins?|minutes?)$/i, '1m'], [/^(h|hrs?|hours?)$/i, '1h'], [/^ms$/i, '1ms']]

/** `50/s` (E0001 at the `/`): a rate is `N per WINDOW`. */
const rateWithSlash: LexHint = (bad, before, after) => {
  const num = bad[0] === '/' ? /(\d+(?:\.\d+)?)$/.exec(before)?.[1] : undefined
  const word = num === undefined ? undefined : /^([A-Za-z]+)/.exec(after)?.[1]
  const win = word === undefined ? undefined : RATE_WINDOWS.find(([re]) => re.test(word))?.[1]
  return win === undefined ? undefined : `a rate is written \`N per WINDOW\`: \`${num} per ${win}\``
}

const isRedis = (s: RatelimitStmt): boolean => s.options.some(o => o.name.value === 'redis')

export const policy: CompilePolicy<RatelimitStmt, RateLimitStageIR> = {
  kind: 'ratelimit',
  syntax: {
    keyword: 'ratelimit',
    pieces: [
      keyword('by'), choice('key', { user: [], consumer: [], ip: [], header: [name('name')], claim: [name('name')] }),
      quantity('limit'), keyword('per'), quantity('window'), options('options'),
    ],
    lexHints: [rateWithSlash],
    build: (f, span): RatelimitStmt => {
      const key = f.key as Choice & { name?: A.NameV }
      return {
        kind: 'ratelimit', key: { kind: key.word as RatelimitStmt['key']['kind'], name: key.name ?? null, span: key.span },
        limit: f.limit as A.QtyV, window: f.window as A.QtyV, options: f.options as A.OptionAst[], span,
      }
    },
  },
  check: checkRatelimitStage,
  // `by user`, `by claim` and `by header H` where H is forwarded from a verified claim read the verified identity.
  needs(ctx, s) {
    // `by consumer` counts per API-key consumer: an `auth` with a `keys` provider establishes it
    if (s.key.kind === 'consumer') {
      return { fact: 'consumer', what: 'ratelimit by consumer', span: s.key.span, label: 'no API-key consumer yet', hintWhenMissing: 'add `auth KEYS` above it (a `keys` provider), or limit `by ip`' }
    }
    const identityHeader = s.key.kind === 'header' && ctx.identityHeaders.has(s.key.name!.value.toLowerCase())
    if (s.key.kind !== 'user' && s.key.kind !== 'claim' && !identityHeader) return undefined
    return {
      fact: 'identity', what: `ratelimit by ${identityHeader ? `header ${s.key.name!.value}` : s.key.kind}`, span: s.key.span, label: 'no verified identity yet',
      hintWhenMissing: 'add `auth PROVIDER` above it, or limit `by ip`',
    }
  },
  // Two limiters with the same identity and store would share one bucket: every request would take from it
  // twice, halving the limit without saying so.
  twin: {
    key: s => `${s.store} ${s.id}`,
    message: 'the same rate limit is given twice',
    label: 'same key, limit and window as an earlier one',
    hint: 'remove one of them; to count two ways, key them differently or give them different windows',
  },
  cost: s => (s.store === 'redis' ? { level: 2, paid: 'a Redis round trip' } : { level: 1, paid: 'a local rate-limit decision' }),
  cheapReject(ctx, s) {
    if (s.key.kind === 'user' || s.key.kind === 'claim' || s.key.kind === 'consumer') return undefined
    // a header the gateway sets from verified claims only exists after `auth`: it cannot move above it
    if (s.key.kind === 'header' && ctx.identityHeaders.has(s.key.header)) return undefined
    return `ratelimit by ${s.key.kind}`
  },
  lint(ctx, s, stmt, pipeline) {
    if (s.key.kind !== 'header' || !pipeline.provides('identity') || ctx.identityHeaders.has(s.key.header)) return
    ctx.d.warn('W0706', stmt.key.span, `\`ratelimit by header\` on an authenticated route keys on \`${s.key.header}\`, which the client controls`, {
      label: 'a new value per request escapes the limit', hint: 'limit by `user` or `claim NAME` on authenticated routes',
    })
  },
  emit: (s, route) => ({ options: emitRatelimit(s, route) }),
  describe,
  canWait: s => s.store === 'redis',
  diff: {
    key: s => `ratelimit ${keyText(s.key)}`,
    changes: (o, n) => [
      ...fields('', o, n, [['limit', 'limit'], ['windowMs', 'window', dur], ['burst', 'burst'], ['store', 'store'],
        ['failOpen', 'on store failure', v => (v ? 'fail_open' : 'fail_closed')]]),
      // The id names the limiter's counters (route, key, limit, window, burst): a new id starts them from zero at deploy.
      ...valueChange('key space', o.id, n.id, v => v).map(c => ({ ...c, text: c.text + ' (counters start fresh)' })),
    ],
  },
  explain(s, env) {
    const text = `ratelimit by ${keyText(s.key)}: ${s.limit} per ${formatQty('duration', s.windowMs)}${s.burst ? ` (burst ${s.burst})` : ''}, ${s.store}${s.store === 'redis' ? (s.failOpen ? ', fails open' : ', fails closed') : ''}; over the limit → 429 with Retry-After`
    const missing = s.key.kind === 'header' && env.headers[s.key.header] === undefined
    return { text, note: missing ? `this request has no \`${s.key.kind === 'header' ? s.key.header : ''}\` header` : null }
  },
  print: s => words('ratelimit by', s.key.kind, s.key.name ? printName(s.key.name) : '', s.limit.raw, 'per', s.window.raw, printOptions(s.options)),
  yaml: {
    key: 'ratelimit',
    read: (r, e) => readRatelimits(r, e),
    // by ip/header before `auth`, by user/claim after it; within each, local limiters before Redis ones
    // (no round trip for what a local one rejects)
    rank: s => (s.key.kind === 'ip' || s.key.kind === 'header' ? 20 : 40) + (isRedis(s) ? 1 : 0),
  },
}
