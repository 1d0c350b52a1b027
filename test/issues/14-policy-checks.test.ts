// test/issues/14-policy-checks.test.ts: the compile side of every policy (policies/*/check.ts and emit.ts), fast
// and in-process: what each statement becomes in the IR (options and their defaults), every diagnostic it can
// give with its code, position, message, label and hint, and the options the generated module passes to each
// runtime stage. The mutation run (lab/mutation, area policies) runs this file first for those files: the golden
// cases cover most of the same ground, but at several seconds per mutant.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { compile, type CompileResult } from '../../compiler/compile.js'
import { buildBundle } from '../../compiler/bundle.js'
import { memoryHost } from '../../compiler/sources.js'
import { verifyBundle } from '../../config/bundle.js'
import type { Diagnostic } from '../../grammar/index.js'
import { instantiateBundle } from '../../runtime/bundle-loader.js'
import { recordingContext, recordingDeps } from '../compiler/fake-stages.js'

const run = (text: string): CompileResult => compile(['p.gwp'], { host: memoryHost({ 'p.gwp': text }) })
/** `CODE line:col+len message [label] (hint) {note line:col message}`: everything gwc shows of a diagnostic. */
const fmt = (d: Diagnostic): string => `${d.code} ${d.line}:${d.col}+${d.len} ${d.message}${d.label ? ` [${d.label}]` : ''}${d.hint ? ` (${d.hint})` : ''}` +
  (d.notes ?? []).map(n => ` {${n.line}:${n.col} ${n.message}}`).join('')
const diags = (text: string): string[] => run(text).diagnostics.map(fmt)
const errors = (text: string): string[] => run(text).diagnostics.filter(d => d.severity === 'error').map(fmt)
/** The IR of a policy that must compile without a single diagnostic. */
function clean(text: string) {
  const r = run(text)
  assert.deepEqual(r.diagnostics.map(fmt), [])
  assert.ok(r.ir !== undefined)
  return r.ir
}
const noSource = <T extends { source?: unknown }>({ source: _s, ...rest }: T) => rest

test('breaker: every option read into the IR, defaults for the rest', () => {
  const ir = clean(`
upstream a { replicas 10.0.0.1:80; breaker error_ratio 25% min_requests 5 window 2s open_for 3s half_open 2 }
upstream b { replicas 10.0.0.2:80; breaker window 1s }
route ra { match path "/a"; timeout 1s; proxy a }
route rb { match path "/b"; timeout 1s; proxy b }
`)
  assert.deepEqual(ir.upstreams.map(u => u.breaker), [
    { errorRatio: 0.25, minRequests: 5, windowMs: 2000, openMs: 3000, halfOpenProbes: 2 },
    { errorRatio: 0.5, minRequests: 20, windowMs: 1000, openMs: 5000, halfOpenProbes: 3 },
  ])
})

test('breaker: each option\'s range, kind and name are checked', () => {
  const route = 'route ra { match path "/a"; timeout 1s; proxy a }'
  assert.deepEqual(errors(`
upstream a { replicas 10.0.0.1:80; breaker error_ratio 0% min_requests 0 window 50ms open_for 2h half_open 1001 }
${route}`), [
    'E0303 2:56+2 `error_ratio` must be between 1% and 100%, got `0%` [out of range]',
    'E0303 2:72+1 `min_requests` must be between 1 and 1000000, got `0` [out of range]',
    'E0303 2:81+4 `window` must be between 100ms and 1h, got `50ms` [out of range]',
    'E0303 2:95+2 `open_for` must be between 100ms and 1h, got `2h` [out of range]',
    'E0303 2:108+4 `half_open` must be between 1 and 1000, got `1001` [out of range]',
  ])
  assert.deepEqual(errors(`
upstream a { replicas 10.0.0.1:80; breaker error_ratio 10s min_requests 5% window 5 open_for 5 half_open 1s }
${route}`), [
    'E0301 2:56+3 `10s` is a duration, but `error_ratio` takes a percentage [expected a percentage] (a percentage looks like `10%`)',
    'E0301 2:73+2 `5%` is a percentage, but `min_requests` takes a count [expected a count] (a count looks like a whole number like `3`)',
    'E0304 2:83+1 `5` has no unit, but `window` takes a duration [unit missing] (write it with a unit, e.g. `800ms`, `2s`, `5m`)',
    'E0304 2:94+1 `5` has no unit, but `open_for` takes a duration [unit missing] (write it with a unit, e.g. `800ms`, `2s`, `5m`)',
    'E0301 2:106+2 `1s` is a duration, but `half_open` takes a count [expected a count] (a count looks like a whole number like `3`)',
  ])
  assert.deepEqual(errors(`
upstream a { replicas 10.0.0.1:80; breaker ratio 5% }
${route}`), [
    'E0205 2:44+5 unknown option `ratio` for `breaker` [not an option here] (`breaker` takes `error_ratio`, `min_requests`, `window`, `open_for`, `half_open`)',
  ])
})

test('bulkhead: max_in_flight into the IR; a bulkhead without it, or with a bad one, is an error', () => {
  const ir = clean(`
upstream a { replicas 10.0.0.1:80; bulkhead max_in_flight 10 }
upstream b { replicas 10.0.0.2:80 }
route ra { match path "/a"; timeout 1s; proxy a 50%, b 50% }
`)
  assert.deepEqual(ir.upstreams.map(u => u.bulkhead), [{ maxInFlight: 10 }, null])
  assert.deepEqual(errors(`
upstream a { replicas 10.0.0.1:80; bulkhead max_in_flight 0 }
upstream b { replicas 10.0.0.1:80
  bulkhead
}
upstream c { replicas 10.0.0.1:80; bulkhead max_in_flight 5% }
upstream d { replicas 10.0.0.1:80; bulkhead limit 5 }
route ra { match path "/a"; timeout 1s; proxy a 25%, b 25%, c 25%, d 25% }
`), [
    'E0303 2:59+1 `max_in_flight` must be between 1 and 1000000, got `0` [out of range]',
    'E0307 4:3+8 `bulkhead` needs `max_in_flight N` [no limit given] (write `bulkhead max_in_flight 256`)',
    'E0301 6:59+2 `5%` is a percentage, but `max_in_flight` takes a count [expected a count] (a count looks like a whole number like `3`)',
    // an unknown option is reported once, not also as a missing limit
    'E0205 7:45+5 unknown option `limit` for `bulkhead` [not an option here] (`bulkhead` takes `max_in_flight`)',
  ])
})

test('headers: set and remove, request (the default) or response, names lower-cased, in order', () => {
  const ir = clean(`
route a { match path "/a"; timeout 1s
  headers response set X-A "1", remove X-B, set X-Multi "a b"
  headers set X-C "2"
  headers request remove Server X-D
  respond 200 json "[]" }
`)
  assert.deepEqual(ir.routes[0].stages, [
    { kind: 'headers', target: 'response', ops: [{ op: 'set', name: 'x-a', value: '1' }, { op: 'remove', name: 'x-b', value: null }, { op: 'set', name: 'x-multi', value: 'a b' }], source: { file: 'p.gwp', line: 3, col: 3 } },
    { kind: 'headers', target: 'request', ops: [{ op: 'set', name: 'x-c', value: '2' }], source: { file: 'p.gwp', line: 4, col: 3 } },
    { kind: 'headers', target: 'request', ops: [{ op: 'remove', name: 'server', value: null }, { op: 'remove', name: 'x-d', value: null }], source: { file: 'p.gwp', line: 5, col: 3 } },
  ])
  assert.deepEqual(errors(`
route a { match path "/a"; timeout 1s
  headers request set X-Note "a\\nb", remove Content-Length, set Host "h"
  headers response set "bad name" "v", remove Connection, set "bad:too" "a\\nb"
  respond 200 }
`), [
    'E0306 3:30+6 a header value cannot contain control characters such as newlines [not a valid header value] (remove the line break (header injection is refused))',
    'E0306 3:45+14 header `Content-Length` cannot be changed by a policy [the gateway manages this header] (framing, hop-by-hop, request-id and trace headers are set by the gateway itself)',
    'E0306 4:24+10 `bad name` is not a valid header name [header names are tokens] (use letters, digits and `-` (e.g. `X-Tenant-Id`))',
    'E0306 4:47+10 header `Connection` cannot be changed by a policy [the gateway manages this header] (framing, hop-by-hop, request-id and trace headers are set by the gateway itself)',
    // a bad name is the one error of its op: its value is not judged too
    'E0306 4:63+9 `bad:too` is not a valid header name [header names are tokens] (use letters, digits and `-` (e.g. `X-Tenant-Id`))',
  ])
})

test('respond: status, body, content type by body kind (a Content-Type header wins), other headers', () => {
  const ir = clean(`
route a { match path "/a"; timeout 1s; respond 201 json "{\\"ok\\":true}" header X-A "1" header Content-Type "application/vnd.x+json" }
route b { match path "/b"; timeout 1s; respond 200 text "hi" }
route c { match path "/c"; timeout 1s; respond 204 }
route d { match path "/d"; timeout 1s; respond 200 body "raw" }
route e { match path "/e"; timeout 1s; respond 204 text "" }
route f { match path "/f"; timeout 1s; respond 200 json "[]" }
`)
  const text = 'text/plain; charset=utf-8'
  assert.deepEqual(ir.routes.map(r => noSource(r.terminal as never)), [
    { kind: 'respond', status: 201, body: '{"ok":true}', contentType: 'application/vnd.x+json', headers: [{ name: 'x-a', value: '1' }], redirect: null },
    { kind: 'respond', status: 200, body: 'hi', contentType: text, headers: [], redirect: null },
    { kind: 'respond', status: 204, body: '', contentType: text, headers: [], redirect: null },
    { kind: 'respond', status: 200, body: 'raw', contentType: text, headers: [], redirect: null },
    { kind: 'respond', status: 204, body: '', contentType: text, headers: [], redirect: null },
    { kind: 'respond', status: 200, body: '[]', contentType: 'application/json', headers: [], redirect: null },
  ])
  assert.deepEqual(errors(`
route a { match path "/a"; timeout 1s; respond 99 }
route b { match path "/b"; timeout 1s; respond 600 }
route c { match path "/c"; timeout 1s; respond 200 text "x" json "{}" }
route d { match path "/d"; timeout 1s; respond 200 json "{bad" }
route e { match path "/e"; timeout 1s; respond 304 text "x" }
route f { match path "/f"; timeout 1s; respond 101 text "x" }
route g { match path "/g"; timeout 1s; respond 199 text "x" }
route h { match path "/h"; timeout 1s; respond 200 header X-Bad "a\\nb" header Content-Length "5" }
route i { match path "/i"; timeout 1s; respond 204 text "x" }
`), [
    'E0303 2:48+2 the status code must be between 100 and 599, got `99` [out of range]',
    'E0303 3:48+3 the status code must be between 100 and 599, got `600` [out of range]',
    'E0102 4:61+4 a response has one body [second body] (keep one of them)',
    'E0306 5:57+6 the `json` body is not valid JSON [not valid JSON] (escape inner quotes as `\\"`, or use `text`)',
    'E0404 6:52+4 a 304 response cannot have a body (remove the body, or use another status)',
    'E0404 7:52+4 a 101 response cannot have a body (remove the body, or use another status)',
    'E0404 8:52+4 a 199 response cannot have a body (remove the body, or use another status)',
    'E0306 9:65+6 a header value cannot contain control characters such as newlines [not a valid header value] (remove the line break (header injection is refused))',
    'E0306 9:79+14 header `Content-Length` cannot be changed by a policy [the gateway manages this header] (framing, hop-by-hop, request-id and trace headers are set by the gateway itself)',
    'E0404 10:52+4 a 204 response cannot have a body (remove the body, or use another status)',
  ])
})

test('proxy: one upstream weighs 100; a split\'s percentages, rounded to 4 decimals, and its fallback', () => {
  const ir = clean(`
upstream a { replicas 10.0.0.1:80 }
upstream b { replicas 10.0.0.2:80 }
upstream c { replicas 10.0.0.3:80 }
route one { match path "/1"; timeout 1s; proxy a }
route full { match path "/2"; timeout 1s; proxy a 100% }
route thirds { match path "/3"; timeout 1s; proxy a 33.33333%, b 33.33333%, c 33.33334% fallback respond 503 text "later" }
route zero { match path "/4"; timeout 1s; proxy a 0%, b 100% }
route close { match path "/5"; timeout 1s; proxy a 60%, b 40.0000001% }
`)
  assert.deepEqual(ir.routes.map(r => noSource(r.terminal as never)), [
    { kind: 'proxy', targets: [{ upstream: 'a', weight: 100 }], fallback: null },
    { kind: 'proxy', targets: [{ upstream: 'a', weight: 100 }], fallback: null },
    {
      kind: 'proxy', targets: [{ upstream: 'a', weight: 33.3333 }, { upstream: 'b', weight: 33.3333 }, { upstream: 'c', weight: 33.3333 }],
      fallback: { kind: 'respond', status: 503, body: 'later', contentType: 'text/plain; charset=utf-8', headers: [], redirect: null, source: { file: 'p.gwp', line: 7, col: 89 } },
    },
    { kind: 'proxy', targets: [{ upstream: 'a', weight: 0 }, { upstream: 'b', weight: 100 }], fallback: null },
    { kind: 'proxy', targets: [{ upstream: 'a', weight: 60 }, { upstream: 'b', weight: 40 }], fallback: null },
  ])
  assert.deepEqual(errors(`
upstream a { replicas 10.0.0.1:80 }
upstream b { replicas 10.0.0.2:80 }
route r1 { match path "/1"; timeout 1s; proxy nope }
route r2 { match path "/2"; timeout 1s; proxy a 50%, a 50% }
route r3 { match path "/3"; timeout 1s; proxy a 150%, b 0% }
route r4 { match path "/4"; timeout 1s; proxy a 60%, b }
route r5 { match path "/5"; timeout 1s; proxy a 60%, b 30% }
route r6 { match path "/6"; timeout 1s; proxy a 60%, b 40.0000001% }
route r7 { match path "/7"; timeout 1s; proxy a 5s }
route r8 { match path "/8"; timeout 1s; proxy a fallback respond 600 }
route r9 { match path "/9"; timeout 1s; proxy a 50%, bb 50% }
`), [
    'E0201 4:47+4 unknown upstream `nope` [no upstream of this name is declared] (declare it with `upstream nope { … }`)',
    'E0102 5:54+1 upstream `a` is listed twice (list each upstream once) {5:47 first listed here}',
    'E0303 6:49+4 a proxy weight must be between 0% and 100%, got `150%` [out of range]',
    'E0308 7:54+1 upstream `b` has no weight [weight missing] (give every upstream of a split a percentage, e.g. `proxy a 90%, b 10%`)',
    'E0308 8:41+5 proxy weights add up to 90%, not 100% [weights do not add up] (make the percentages sum to 100%)',
    'E0301 10:49+2 `5s` is a duration, but a proxy weight takes a percentage [expected a percentage] (a percentage looks like `10%`)',
    'E0303 11:66+3 the status code must be between 100 and 599, got `600` [out of range]',
    'E0201 12:54+2 unknown upstream `bb` [no upstream of this name is declared] (did you mean `b`?)',
  ])
})

test('ratelimit: key, limit, window, burst, store and failure policy into the IR, with the limiter identity', () => {
  const r = run(`jwt idp { issuer "https://id.example.com/"; jwks "https://id.example.com/jwks" refresh 5m; forward claim tid as X-Tenant }
upstream a { replicas 10.0.0.1:80 }
route r { match path "/r"; timeout 1s
  ratelimit by ip 10 per 1s
  ratelimit by header X-Api-Key 5 per 1m burst 3 local
  auth idp
  ratelimit by user 100 per 1h redis
  ratelimit by claim tid 7 per 10s redis fail_closed
  ratelimit by header X-Tenant 2 per 1s redis fail_open
  proxy a }
`)
  assert.deepEqual(r.diagnostics.map(fmt), [
    'W0706 5:16+6 `ratelimit by header` on an authenticated route keys on `x-api-key`, which the client controls [a new value per request escapes the limit] (limit by `user` or `claim NAME` on authenticated routes)',
  ])
  assert.deepEqual(r.ir!.routes[0].stages.filter(s => s.kind === 'ratelimit').map(s => noSource(s)), [
    { kind: 'ratelimit', key: { kind: 'ip' }, limit: 10, windowMs: 1000, burst: 0, store: 'local', failOpen: true, id: 'r:ip:10/1000ms' },
    { kind: 'ratelimit', key: { kind: 'header', header: 'x-api-key' }, limit: 5, windowMs: 60000, burst: 3, store: 'local', failOpen: true, id: 'r:header=x-api-key:5/60000ms+3' },
    { kind: 'ratelimit', key: { kind: 'user' }, limit: 100, windowMs: 3600000, burst: 0, store: 'redis', failOpen: true, id: 'r:user:100/3600000ms' },
    { kind: 'ratelimit', key: { kind: 'claim', claim: 'tid' }, limit: 7, windowMs: 10000, burst: 0, store: 'redis', failOpen: false, id: 'r:claim=tid:7/10000ms' },
    { kind: 'ratelimit', key: { kind: 'header', header: 'x-tenant' }, limit: 2, windowMs: 1000, burst: 0, store: 'redis', failOpen: true, id: 'r:header=x-tenant:2/1000ms' },
  ])
})

test('ratelimit: ranges, a bad header name, and options that contradict each other', () => {
  assert.deepEqual(errors(`
upstream a { replicas 10.0.0.1:80 }
route r { match path "/r"; timeout 1s
  ratelimit by ip 0 per 1s
  ratelimit by ip 1 per 0ms
  ratelimit by header "bad name" 1 per 1s
  ratelimit by ip 1 per 1s local redis
  ratelimit by ip 2 per 1s redis fail_open fail_closed
  ratelimit by ip 3 per 1s fail_closed
  ratelimit by ip 4 per 1s local fail_open
  ratelimit by ip 5 per 1s burst 5%
  ratelimit by ip 6 per 1s fast
  proxy a }
`), [
    'E0303 4:19+1 the rate limit must be between 1 and 1000000000, got `0` [out of range]',
    'E0303 5:25+3 the rate-limit window must be between 1ms and 24h, got `0ms` [out of range]',
    'E0306 6:23+10 `bad name` is not a valid header name [header names are tokens] (use letters, digits and `-` (e.g. `X-Tenant-Id`))',
    'E0404 7:34+5 a rate limit is either `local` or `redis`, not both (keep one of them)',
    'E0404 8:44+11 a rate limit either fails open or closed, not both (keep one of them)',
    'E0404 9:28+11 only a `redis` rate limit can fail: a `local` one always answers [no effect on a local limiter] (add `redis`, or remove this)',
    'E0404 10:34+9 only a `redis` rate limit can fail: a `local` one always answers [no effect on a local limiter] (add `redis`, or remove this)',
    'E0301 11:34+2 `5%` is a percentage, but `burst` takes a count [expected a count] (a count looks like a whole number like `3`)',
    'E0205 12:28+4 unknown option `fast` for `ratelimit` [not an option here] (`ratelimit` takes `burst`, `local`, `redis`, `fail_open`, `fail_closed`)',
  ])
})

test('ratelimit: a limit that did not check is left out of the route, so no lint speaks about it', () => {
  // were they kept, `ratelimit by ip` after the Redis limit would get W0701, and the bad header W0706 (keyed on a
  // client header after auth)
  assert.deepEqual(diags(`
jwt idp { issuer "https://id/"; jwks "https://id/jwks" refresh 5m }
upstream a { replicas 10.0.0.1:80 }
route r { match path "/r"; timeout 1s
  auth idp
  ratelimit by user 1 per 1s redis
  ratelimit by ip 0 per 1s
  ratelimit by ip 1 per 0ms
  ratelimit by header "bad name" 1 per 1s
  proxy a }
`), [
    'E0303 7:19+1 the rate limit must be between 1 and 1000000000, got `0` [out of range]',
    'E0303 8:25+3 the rate-limit window must be between 1ms and 24h, got `0ms` [out of range]',
    'E0306 9:23+10 `bad name` is not a valid header name [header names are tokens] (use letters, digits and `-` (e.g. `X-Tenant-Id`))',
  ])
})

test('retry: count, which methods, budget (20% unless told), per_try and backoff into the IR', () => {
  const r = run(`
upstream a { replicas 10.0.0.1:80; breaker error_ratio 50% }
route r1 { match path "/1"; timeout 1s; retry 2 per_try 300ms; proxy a }
route r2 { match path "/2"; timeout 1s; retry 1 idempotency_key budget 5% per_try 300ms backoff 20ms; proxy a }
route r3 { match path "/3"; timeout 1s; retry 3 all_methods no_budget per_try 200ms; proxy a }
route r4 { match path "/4"; timeout 1s; retry 1 idempotent_only per_try 200ms; proxy a }
`)
  assert.deepEqual(r.diagnostics.map(fmt), [
    'W0702 5:49+11 route `r3` retries non-idempotent requests (any method) [a retried POST can charge a card twice] (use `idempotent_only`, or `idempotency_key` if clients send an Idempotency-Key)',
    'W0707 5:61+9 retries of route `r3` have no budget: a failing upstream can get 4× its normal load (bound retries with `budget 20%`)',
  ])
  assert.deepEqual(r.ir!.routes.map(x => x.retry), [
    { count: 2, methods: 'idempotent', budget: 0.2, perTryMs: 300, backoffMs: 0 },
    { count: 1, methods: 'idempotency_key', budget: 0.05, perTryMs: 300, backoffMs: 20 },
    { count: 3, methods: 'all', budget: null, perTryMs: 200, backoffMs: 0 },
    { count: 1, methods: 'idempotent', budget: 0.2, perTryMs: 200, backoffMs: 0 },
  ])
})

test('retry: ranges, kinds, conflicting modes and budgets, and lints pointing at the option', () => {
  assert.deepEqual(diags(`
upstream a { replicas 10.0.0.1:80; breaker error_ratio 50% }
route r1 { match path "/1"; timeout 1s; retry 11 per_try 300ms; proxy a }
route r2 { match path "/2"; timeout 1s; retry 1 idempotency_key all_methods per_try 300ms; proxy a }
route r3 { match path "/3"; timeout 1s; retry 1 budget 5% no_budget per_try 300ms; proxy a }
route r4 { match path "/4"; timeout 1s; retry 1 budget 0% per_try 0ms backoff 2m; proxy a }
route r5 { match path "/5"; timeout 1s; retry 1 budget 5s per_try 1 backoff 3%; proxy a }
route r6 { match path "/6"; timeout 1s; retry 1 forever; proxy a }
`), [
    'E0303 3:47+2 the retry count must be between 0 and 10, got `11` [out of range]',
    'E0404 4:65+11 `idempotency_key` and `all_methods` cannot both be given (choose which requests may be retried)',
    'E0404 5:59+9 `budget` and `no_budget` cannot both be given (keep one of them)',
    'W0707 5:59+9 retries of route `r3` have no budget: a failing upstream can get 2× its normal load (bound retries with `budget 20%`)',
    'E0303 6:56+2 `budget` must be between 1% and 1000%, got `0%` [out of range]',
    'E0303 6:67+3 `per_try` must be between 1ms and 1h, got `0ms` [out of range]',
    'E0303 6:79+2 `backoff` must be between 0ms and 1m, got `2m` [out of range]',
    'E0301 7:56+2 `5s` is a duration, but `budget` takes a percentage [expected a percentage] (a percentage looks like `10%`)',
    'E0304 7:67+1 `1` has no unit, but `per_try` takes a duration [unit missing] (write it with a unit, e.g. `800ms`, `2s`, `5m`)',
    'E0301 7:77+2 `3%` is a percentage, but `backoff` takes a duration [expected a duration] (a duration looks like `800ms`, `2s`, `5m`)',
    'W0710 8:41+5 retries of route `r6` have no `per_try` timeout [a slow first attempt can use the whole route timeout] (add `per_try 333ms` so a retry can still happen in time)',
    'E0205 8:49+7 unknown option `forever` for `retry` [not an option here] (`retry` takes `idempotent_only`, `idempotency_key`, `all_methods`, `budget`, `no_budget`, `per_try`, `backoff`)',
  ])
})

test('jwt: provider defaults, JWKS timings derived from refresh, every option, and auth audiences', () => {
  const route = (p: string) => `route r_${p} { match path "/${p}"; auth ${p}; timeout 1s; respond 200 }`
  const r = run(`
jwt d { issuer "https://a/"; jwks "https://a/jwks" }
jwt e { issuer "https://b/"; jwks "http://b/jwks" refresh 40s }
jwt f { issuer "https://c/"; jwks "https://c/jwks" refresh 1h }
jwt g {
  issuer "https://g/"
  jwks "https://g/jwks" refresh 10m refresh_ahead 1m unknown_kid_cooldown 5s max_stale 1h timeout 2s
  algorithms ES256, RS256 ES256 PS256
  audience "api" "admin"
  leeway 5s
  cache 0
  forward claim sub as X-User, claim "https://x/t" as X-Tenant
  forward claim email as X-Email
}
${route('d')}
${route('e')}
${route('f')}
route r_g { match path "/g"; auth g audience "other"; timeout 1s; respond 200 }
route r_g2 { match path "/g2"; auth g; timeout 1s; respond 200 }
`)
  assert.deepEqual(r.diagnostics.map(fmt), [
    'W0705 2:30+4 jwks of jwt `d` has no refresh interval [keys will be refetched every 5m by default] (say how often keys rotate: `jwks "…" refresh 5m`)',
  ])
  const algorithms = ['RS256', 'ES256', 'EdDSA']
  const common = { unknownKidCooldownMs: 30000, fetchTimeoutMs: 3000, algorithms, audience: [], leewayMs: 30000, forward: [], tokenCacheSize: 10000 }
  assert.deepEqual(r.ir!.declarations.map(p => noSource(p)), [
    { kind: 'jwt', name: 'd', issuer: 'https://a/', jwksUrl: 'https://a/jwks', refreshMs: 300000, refreshAheadMs: 30000, maxStaleMs: 900000, ...common },
    // refresh_ahead: at most half the refresh interval; max_stale: at least two intervals
    { kind: 'jwt', name: 'e', issuer: 'https://b/', jwksUrl: 'http://b/jwks', refreshMs: 40000, refreshAheadMs: 20000, maxStaleMs: 900000, ...common },
    { kind: 'jwt', name: 'f', issuer: 'https://c/', jwksUrl: 'https://c/jwks', refreshMs: 3600000, refreshAheadMs: 30000, maxStaleMs: 7200000, ...common },
    {
      kind: 'jwt', name: 'g', issuer: 'https://g/', jwksUrl: 'https://g/jwks', refreshMs: 600000, refreshAheadMs: 60000, unknownKidCooldownMs: 5000, maxStaleMs: 3600000,
      fetchTimeoutMs: 2000, algorithms: ['ES256', 'RS256', 'PS256'], audience: ['api', 'admin'], leewayMs: 5000,
      forward: [{ claim: 'sub', header: 'x-user' }, { claim: 'https://x/t', header: 'x-tenant' }, { claim: 'email', header: 'x-email' }], tokenCacheSize: 0,
    },
  ])
  // facts and consumes: what `auth` hands on (issue 11/12: descriptor data, no kind names in the core)
  assert.deepEqual(r.ir!.routes.map(x => x.stages.map(s => { const { facts: _f, consumes: _c, jwt: _j, ...rest } = noSource(s) as never as Record<string, unknown>; return rest })), [
    [{ kind: 'auth', provider: 'd', audience: [] }],
    [{ kind: 'auth', provider: 'e', audience: [] }],
    [{ kind: 'auth', provider: 'f', audience: [] }],
    [{ kind: 'auth', provider: 'g', audience: ['other'] }],          // the route's audience replaces the provider's
    [{ kind: 'auth', provider: 'g', audience: ['api', 'admin'] }],
  ])
})

test('jwt: every provider and auth error, with its position', () => {
  assert.deepEqual(errors(`
jwt a {
  issuer "https://a/"
  issuer "https://a2/"
  jwks "https://a/jwks" refresh 1m refresh_ahead 1m max_stale 30s
  algorithms HS256 none Es256 XYZ123
  forward claim sub as X-User
  forward claim sub2 as x-user, claim a as Authorization, claim b as Host, claim c as Cookie, claim d as X-Request-Id, claim e as Traceparent, claim f as "bad name"
  leeway 10m
  cache 20000000
}
jwt b { audience "x" }
jwt c { issuer ""; jwks "ftp://c/jwks" refresh 0s refresh_ahead 2h unknown_kid_cooldown 1ms max_stale 500ms timeout 5ms }
jwt d { issuer "https://d/"; jwks "nope" refresh 1m refresh_ahead 30s max_stale 1m }
route r1 { match path "/1"; auth a; auth zz; timeout 1s; respond 200 }
route r2 { match path "/2"; auth b; timeout 1s; respond 200 }
route r3 { match path "/3"; auth c audience 5s; timeout 1s; respond 200 }
route r4 { match path "/4"; auth d; timeout 1s; respond 200 }
route r5 { match path "/5"; auth dd; timeout 1s; respond 200 }
`), [
    'E0102 4:3+6 `issuer` is given twice in jwt `a` [given again here] (keep one of them) {3:3 first given here}',
    'E0303 5:50+2 `refresh_ahead` must be shorter than `refresh` [not shorter than the refresh interval]',
    'E0303 5:63+3 `max_stale` must be at least the `refresh` interval [keys would expire before the next refresh] (make it a few refresh intervals long)',
    'E0206 6:14+5 `HS256` cannot be verified against a JWKS of public keys [not an asymmetric algorithm] (allow only asymmetric algorithms such as `RS256`, `ES256` or `EdDSA`)',
    'E0206 6:20+4 `none` cannot be verified against a JWKS of public keys [not an asymmetric algorithm] (allow only asymmetric algorithms such as `RS256`, `ES256` or `EdDSA`)',
    'E0206 6:25+5 unknown JWT algorithm `Es256` (did you mean `ES256`?)',
    'E0206 6:31+6 unknown JWT algorithm `XYZ123` (choose from RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA)',
    'E0102 8:25+6 header `x-user` is forwarded twice (forward each header once)',
    'E0306 8:44+13 claims cannot be forwarded as `Authorization` [the gateway owns this header] (forward claims as `X-…` headers)',
    'E0306 8:70+4 claims cannot be forwarded as `Host` [the gateway owns this header] (forward claims as `X-…` headers)',
    'E0306 8:87+6 claims cannot be forwarded as `Cookie` [the gateway owns this header] (forward claims as `X-…` headers)',
    'E0306 8:106+12 claims cannot be forwarded as `X-Request-Id` [the gateway owns this header] (forward claims as `X-…` headers)',
    'E0306 8:131+11 claims cannot be forwarded as `Traceparent` [the gateway owns this header] (forward claims as `X-…` headers)',
    'E0306 8:155+10 `bad name` is not a valid header name [header names are tokens] (use letters, digits and `-` (e.g. `X-Tenant-Id`))',
    'E0303 9:10+3 `leeway` must be between 0ms and 5m, got `10m` [out of range]',
    'E0303 10:9+8 `cache` must be between 0 and 10000000, got `20000000` [out of range]',
    'E0104 12:5+1 jwt `b` has no `issuer` [tokens cannot be checked without one] (add `issuer "https://…/"`)',
    'E0104 12:5+1 jwt `b` has no `jwks` [no keys to verify tokens with] (add `jwks "https://…/.well-known/jwks.json" refresh 5m`)',
    'E0306 13:16+2 the issuer must not be empty (write the `iss` value tokens carry)',
    'E0306 13:25+14 the JWKS address must be an http(s) URL, got `ftp:` [unsupported scheme]',
    'E0303 13:48+2 `refresh` must be between 1s and 24h, got `0s` [out of range]',
    'E0303 13:65+2 `refresh_ahead` must be between 0ms and 1h, got `2h` [out of range]',
    'E0303 13:89+3 `unknown_kid_cooldown` must be between 100ms and 1h, got `1ms` [out of range]',
    'E0303 13:103+5 `max_stale` must be between 1s and 24h, got `500ms` [out of range]',
    'E0303 13:117+3 `timeout` must be between 10ms and 1m, got `5ms` [out of range]',
    // d: refresh_ahead half the interval and max_stale exactly one interval are fine; only the URL is wrong
    'E0306 14:35+6 the JWKS address `nope` is not a URL [not a URL] (write an absolute http(s) URL)',
    'E0202 15:42+2 unknown provider `zz` [no provider of this name is declared] (declare it with `jwt zz { … }`)',
    'E0301 17:45+2 `audience` takes strings, got `5s` (put the value in double quotes)',
    'E0202 19:34+2 unknown provider `dd` [no provider of this name is declared] (did you mean `d`?)',
  ])
  // a provider only `auth` names counts as used
  assert.deepEqual(diags(`
jwt a { issuer "https://a/"; jwks "https://a/jwks" refresh 1m }
jwt b { issuer "https://b/"; jwks "https://b/jwks" refresh 1m }
route r1 { match path "/1"; auth a; timeout 1s; respond 200 }
`), ['W0709 3:5+1 jwt `b` is never used [no route refers to it] (remove it, or refer to it from a route)'])
})

test('emit: the options the generated module passes to each stage, and the header plans', async () => {
  const r = run(`
jwt idp { issuer "https://id/"; jwks "https://id/jwks" refresh 5m; audience "api"; forward claim tid as X-Tenant }
upstream a { replicas 10.0.0.1:80; breaker error_ratio 50% }
upstream b { replicas 10.0.0.2:80; breaker error_ratio 50% }
route r1 { match path "/1"; timeout 2s
  headers request set X-A "1", remove X-B
  headers response set X-C "3", remove X-D
  auth idp audience "web"
  ratelimit by claim tid 5 per 1m burst 2 redis fail_closed
  retry 2 per_try 500ms backoff 10ms
  proxy a 90%, b 10% fallback respond 503 json "{}" header Retry-After "5"
}
route r2 { match path "/2"; timeout 1s; auth idp; respond 201 text "made" header X-E "e" }
route r3 { match path "/3"; timeout 1s; proxy a }
`)
  assert.deepEqual(r.diagnostics.map(fmt), [])
  const b = buildBundle(r.ir!, r.sources, 'golden')
  const { deps, calls } = recordingDeps()
  const loaded = instantiateBundle(verifyBundle(b.manifestText, b.moduleText), b.moduleText, deps)
  assert.deepEqual(calls, [
    { kind: 'heads.request', opts: { drop: ['x-a', 'x-b'], block: 'x-a: 1\r\n', edits: ['x-a', '1', 'x-b', null] } },
    { kind: 'heads.response', opts: { drop: ['x-c', 'x-d'], block: 'x-c: 3\r\n', edits: ['x-c', '3', 'x-d', null] } },
    { kind: 'auth', opts: { route: 'r1', provider: 'idp', audience: ['web'] } },
    { kind: 'ratelimit', opts: { route: 'r1', id: 'r1:claim=tid:5/60000ms+2', key: { kind: 'claim', claim: 'tid' }, limit: 5, windowMs: 60000, burst: 2, store: 'redis', failOpen: false } },
    {
      kind: 'proxy', opts: {
        route: 'r1', targets: [{ upstream: 'a', weight: 90 }, { upstream: 'b', weight: 10 }], timeoutMs: 2000,
        retry: { count: 2, methods: 'idempotent', budget: 0.2, perTryMs: 500, backoffMs: 10 },
        fallback: { status: 503, body: '{}', contentType: 'application/json', headers: [{ name: 'retry-after', value: '5' }] },
      },
    },
    { kind: 'auth', opts: { route: 'r2', provider: 'idp', audience: ['api'] } },
    { kind: 'respond', opts: { route: 'r2', status: 201, body: 'made', contentType: 'text/plain; charset=utf-8', headers: [{ name: 'x-e', value: 'e' }] } },
    { kind: 'proxy', opts: { route: 'r3', targets: [{ upstream: 'a', weight: 100 }], timeoutMs: 1000, retry: null, fallback: null } },
  ])
  const { ctx, calls: headerCalls } = recordingContext()
  assert.deepEqual(await (loaded.handlers[0] as (c: unknown) => unknown)(ctx), { reply: 'proxy', index: 4 })
  assert.deepEqual(headerCalls, [
    { method: 'requestPlan', args: ['x-a: 1\r\n', ['x-a', '1', 'x-b', null]] },
    { method: 'responsePlan', args: ['x-c: 3\r\n', ['x-c', '3', 'x-d', null]] },
  ])
})

test('auth: the credentials a route consumes are where each provider reads them (a keys header lower-cased, a query name as written, X-Api-Key by default, a JWT\'s Authorization), each once', () => {
  const consumed = (keys: string, auth: string) => {
    const r = run(`jwt idp { issuer "https://id.example.com/"; jwks "https://id.example.com/jwks.json" }
keys k1 { file "k.txt"; ${keys} }
keys k2 { file "k.txt" }
keys k3 { file "k.txt"; query api_Key }
upstream u { replicas 10.0.0.1:80 }
route r { match path "/"; auth ${auth}; timeout 1s; proxy u }`)
    assert.equal(r.errors, 0, r.diagnostics.map(fmt).join('\n'))
    const s = r.ir!.routes[0].stages.find(x => x.kind === 'auth') as unknown as { consumes: unknown }
    return s.consumes
  }
  assert.deepEqual(consumed('header X-Token', 'k1'), { headers: ['x-token'], query: [] })
  assert.deepEqual(consumed('query Token', 'k1'), { headers: [], query: ['Token'] })
  assert.deepEqual(consumed('header X-Token', 'k2'), { headers: ['x-api-key'], query: [] })
  assert.deepEqual(consumed('header X-Token', 'idp or k1 or k2 or k3'), { headers: ['authorization', 'x-token', 'x-api-key'], query: ['api_Key'] })
  assert.deepEqual(consumed('header X-Api-Key', 'k1 or k2'), { headers: ['x-api-key'], query: [] })
})

test('auth: a keys declaration\'s `forward` line is not where its key is read; a provider named twice or a name that is no provider is the error alone (no suggestion of an upstream, the route not linted)', () => {
  const base = `keys k1 { file "k.txt"; forward consumer as X-Consumer-Id; header X-Token }
upstream k2 { replicas 10.0.0.1:80 }
`
  const r = run(base + 'route r { match path "/"; auth k1; timeout 1s; proxy k2 }')
  assert.deepEqual((r.ir!.routes[0].stages.find(x => x.kind === 'auth') as unknown as { consumes: unknown }).consumes, { headers: ['x-token'], query: [] })
  assert.deepEqual(diags(base + 'route r { match path "/"; auth k1 or k1; proxy k2 }').map(d => d.split(' ')[0]), ['E0452'])
  const unknown = run(base + 'route r { match path "/"; auth k2; proxy k2 }').diagnostics.filter(d => d.code !== 'W0709') // k1 unused
  assert.deepEqual(unknown.map(d => d.code), ['E0202'])
  assert.match(fmt(unknown[0]), /\(did you mean `k1`\?\)$/, 'the provider is offered, not the upstream of that name')
  // an upstream whose name is close is never offered as a provider
  const far = run('keys partners { file "k.txt" }\nupstream k2 { replicas 10.0.0.1:80 }\nroute r { match path "/"; auth k3; proxy k2 }').diagnostics.filter(d => d.code === 'E0202')
  assert.equal(far.length, 1)
  assert.doesNotMatch(fmt(far[0]), /k2/)
})
