// test/compiler/codegen.test.ts: no policy text can inject code. First the codegen helpers (literals, names,
// property access, comments) on hostile strings; then end to end: a policy whose every string and name slot
// is hostile compiles, and its module, loaded with recording stage factories, hands exactly those strings
// to the factories and the request context, touches no global but `Promise`, and contains no raw U+2028/2029
// or `</script>`. Values that are invalid where they stand (a newline in a header value) are diagnostics.
import type { JwtProviderIR } from '../../policies/auth/options.js'
import assert from 'node:assert/strict'
import { test } from 'node:test'
import vm from 'node:vm'
import { compile } from '../../compiler/compile.js'
import { buildBundle } from '../../compiler/bundle.js'
import { Code, Name, Scope, comment, js, lit, prop } from '../../compiler/codegen/js.js'
import { memoryHost } from '../../compiler/sources.js'
import { verifyBundle, type BuildDeps } from '../../config/bundle.js'
import { instantiateBundle } from '../../runtime/bundle-loader.js'
import { recordingContext, recordingDeps } from './fake-stages.js'

/** If any of these runs as code, it sets (or reads) the sentinel. */
const SENTINEL = '__gwpSentinel'
const ATTACKS = [
  `"); globalThis.${SENTINEL} = 1; ("`,
  `'); globalThis.${SENTINEL} = 1; ('`,
  `\`\${globalThis.${SENTINEL} = 1}\``,
  `*/ globalThis.${SENTINEL} = 1; /*`,
  `\n globalThis.${SENTINEL} = 1 //`,
  `\u2028globalThis.${SENTINEL} = 1\u2029`,
  `</script><script>globalThis.${SENTINEL} = 1</script>`,
  `<!-- globalThis.${SENTINEL} = 1 -->`,
  '\\', '\\"', '\ud800', '\udfff', '\0', '\r\n', '\x1b[31m', '😀', '__proto__',
]
const EVIL = ATTACKS.join(' | ')
// What a header value may hold: visible ASCII, quotes, backticks, `${`, comment ends and `</script>` included.
const EVIL_HEADER_VALUE = `"); globalThis.${SENTINEL}=1; (" ' \` \${x} */ /* </script> \\ <!--`
/** Header names are RFC 9110 tokens, which still allow quotes, backticks and `$`. */
const EVIL_HEADER_NAME = "X-`$'|~^!#%&*+."

/** Writes `s` as a .gwp string literal (the language's own escapes), so the test also round-trips the lexer. */
function gwpString(s: string): string {
  let out = '"'
  for (const ch of s) {
    const cp = ch.codePointAt(0)!
    if (ch === '"') out += '\\"'
    else if (ch === '\\') out += '\\\\'
    else if (ch === '\n') out += '\\n'
    else if (ch === '\r') out += '\\r'
    else if (ch === '\t') out += '\\t'
    else if (cp < 0x20 || cp === 0x7f || cp === 0x2028 || cp === 0x2029 || (cp >= 0xd800 && cp <= 0xdfff)) out += `\\u{${cp.toString(16)}}`
    else out += ch
  }
  return out + '"'
}

function withSentinel<T>(f: () => T): { result: T; touched: boolean } {
  let touched = false
  Object.defineProperty(globalThis, SENTINEL, { configurable: true, get() { touched = true; return undefined }, set() { touched = true } })
  try { return { result: f(), touched } } finally { delete (globalThis as Record<string, unknown>)[SENTINEL] }
}

// ── the helpers ───────────────────────────────────────────────────────────────────────────────────

test('lit and js embed hostile strings as literals that evaluate back to the same string', () => {
  for (const evil of [...ATTACKS, EVIL]) {
    const { result, touched } = withSentinel(() => new Function(`return ${js`${evil}`}`)() as unknown)
    assert.equal(result, evil)
    assert.equal(touched, false)
    const text = String(lit(evil))
    assert.ok(!/[\u2028\u2029]/.test(text), 'no raw line separators')
    assert.ok(!text.includes('<'), '`<` is escaped, so no `</script>` or `<!--`')
    assert.ok(!/[\n\r]/.test(text), 'a literal is one line')
  }
})

test('lit round-trips nested JSON values and refuses what is not JSON', () => {
  const value = { a: EVIL, list: [EVIL, 1, 2.5, -0.125, true, false, null, { deep: [EVIL] }], n: 9007199254740991 }
  assert.deepEqual(new Function(`return ${lit(value)}`)(), value)
  for (const bad of [Infinity, -Infinity, NaN]) assert.throws(() => lit(bad), /non-finite/)
  assert.throws(() => lit([1, [NaN]]), /non-finite/)
  assert.throws(() => lit(new Date(0) as never), /plain objects/)
  assert.throws(() => lit(Object.create({ x: 1 }) as never), /plain objects/)
  // Splicing: Code and Name go in as-is, everything else as a literal.
  const n = new Name('route0')
  assert.equal(String(js`${n}(${EVIL}, ${new Code('ctx')})`), `route0(${lit(EVIL)}, ctx)`)
})

test('lit keeps an own `__proto__` key an own key (not a prototype)', () => {
  const value = JSON.parse('{"__proto__": {"polluted": true}, "x": 1}') as { x: number }
  const back = new Function(`return ${lit(value)}`)() as Record<string, unknown>
  assert.equal(Object.getPrototypeOf(back), Object.prototype)
  assert.deepEqual(Object.keys(back).sort(), ['__proto__', 'x'])
})

test('Name accepts identifiers and rejects everything else', () => {
  for (const ok of ['route0', 'route0_1', '$x', '_', 'ctx', 'CONTINUE', 'stages']) assert.equal(String(new Name(ok)), ok)
  const bad = ['', '0route', 'a-b', 'a b', 'a.b', 'a;b', 'a\u2028', 'a\n', 'é', '${x}', '`', '"x"', 'return', 'this', 'eval', 'arguments',
    'await', 'yield', 'let', 'null', 'undefined', 'NaN', 'Infinity', 'new', 'function', 'class', 'import', ...ATTACKS.filter(a => a !== '__proto__')]
  for (const b of bad) assert.throws(() => new Name(b), /codegen: bad identifier/, JSON.stringify(b))
})

test('the allocator only makes numbered names from fixed prefixes', () => {
  const s = new Scope()
  assert.deepEqual([s.name('route'), s.name('route'), s.name('auth'), s.name('route')].map(String), ['route0', 'route1', 'auth0', 'route2'])
  assert.throws(() => s.name('a-b'), /bad identifier/)
})

test('prop reaches any key safely: `.key` for identifiers, `[literal]` for the rest', () => {
  const o = new Name('o')
  assert.equal(String(prop(o, 'status')), 'o.status')
  assert.equal(String(prop(o, 'return')), 'o["return"]')
  for (const key of [...ATTACKS, 'a-b', '1', '']) {
    const { result, touched } = withSentinel(() => new Function('o', `return ${prop(o, key)}`)({ [key]: 42 }) as unknown)
    assert.equal(result, 42, JSON.stringify(key))
    assert.equal(touched, false)
  }
})

test('comments cannot be ended early by newlines, U+2028/2029 or `*/`', () => {
  for (const evil of [...ATTACKS, EVIL, 'a\r\nb', 'a\rb', '*/', '\u2028\u2029']) {
    const c = String(comment(evil))
    assert.ok(c.startsWith('// '))
    assert.ok(!/[\n\r\u2028\u2029]/.test(c), `one line: ${JSON.stringify(c)}`)
    assert.ok(!c.includes('*/'))
    // As a line comment and inside a block of code, it changes nothing.
    const { result, touched } = withSentinel(() => new Function(`${c}\nreturn 1 ${c}\n`)() as unknown)
    assert.equal(result, 1)
    assert.equal(touched, false)
  }
})

test('comments neutralise `</script>` like literals do', () => {
  for (const evil of ['</script>', '<!--', 'a</SCRIPT>b']) assert.ok(!/<\/script|<!--/i.test(String(comment(evil))), evil)
})

// ── end to end ────────────────────────────────────────────────────────────────────────────────────

const q = gwpString
const PATH = "/a');$(x)*/b*/c=1&d+e,f;g@h:i!j~"
const FILE = 'dir/evil "name` ${x} */ \u2028 \n\'.gwp'
const POLICY = `
upstream up-1_x { replicas 10.0.0.1:8080; breaker error_ratio 50% }
upstream up-2 { replicas 10.0.0.2:8080 }

jwt idp-1 {
  issuer ${q(EVIL)}
  jwks ${q('https://id.example.com/jwks?x="`${a}*/</script>\u2028')} refresh 5m
  audience ${q(EVIL)}
  forward claim ${q(EVIL)} as X-Evil-Claim
}

policy pol-1_x { timeout 1s }

route route-1_a {
  match host "api.example.com" path prefix ${q(PATH)} header ${q(EVIL_HEADER_NAME)} ${q(EVIL_HEADER_VALUE)}
  auth idp-1 audience ${q(EVIL)} ${q(EVIL_HEADER_VALUE)}
  ratelimit by claim ${q(EVIL)} 10 per 1s
  ratelimit by header ${q(EVIL_HEADER_NAME)} 10 per 1s
  headers request set ${q(EVIL_HEADER_NAME)} ${q(EVIL_HEADER_VALUE)}, remove ${q(EVIL_HEADER_NAME + '2')}
  headers response set X-Resp ${q(EVIL_HEADER_VALUE)}
  use pol-1_x
  proxy up-1_x 50%, up-2 50% fallback respond 503 text ${q(EVIL)} header ${q(EVIL_HEADER_NAME)} ${q(EVIL_HEADER_VALUE)}
}

route route-2 {
  match path ${q('/x' + PATH)}
  timeout 1s
  respond 200 json ${q(JSON.stringify({ e: EVIL }))} header Content-Type ${q(EVIL_HEADER_VALUE)}
}
`

function compileEvil() {
  const r = compile([FILE], { host: memoryHost({ [FILE]: POLICY }) })
  assert.equal(r.errors, 0, JSON.stringify(r.diagnostics.filter(d => d.severity === 'error'), null, 2))
  return { r, bundle: buildBundle(r.ir!, r.sources, 'test') }
}

test('a policy with hostile text in every slot compiles, and its factories get exactly that text', () => {
  const { r, bundle } = compileEvil()
  const manifest = verifyBundle(bundle.manifestText, bundle.moduleText)
  const hn = EVIL_HEADER_NAME.toLowerCase()
  const { result, touched } = withSentinel(() => {
    const { deps, calls } = recordingDeps()
    const loaded = instantiateBundle(manifest, bundle.moduleText, deps)
    const runs = loaded.handlers.map(h => { const c = recordingContext(); const out = h(c.ctx); return { out, calls: c.calls } })
    return { calls, runs }
  })
  assert.equal(touched, false, 'the module touched the global sentinel')
  const base = { limit: 10, windowMs: 1000, burst: 0, store: 'local', failOpen: true }
  assert.deepEqual(result.calls, [
    { kind: 'auth', opts: { route: 'route-1_a', provider: 'idp-1', audience: [EVIL, EVIL_HEADER_VALUE] } },
    { kind: 'ratelimit', opts: { route: 'route-1_a', id: `route-1_a:claim=${EVIL}:10/1000ms`, key: { kind: 'claim', claim: EVIL }, ...base } },
    { kind: 'ratelimit', opts: { route: 'route-1_a', id: `route-1_a:header=${hn}:10/1000ms`, key: { kind: 'header', header: hn }, ...base } },
    // the `headers` stages as head plans: names pre-lowered, the added lines one block, the hostile value a literal
    { kind: 'heads.request', opts: { drop: [hn, hn + '2'], block: `${hn}: ${EVIL_HEADER_VALUE}\r\n`, edits: [hn, EVIL_HEADER_VALUE, hn + '2', null] } },
    { kind: 'heads.response', opts: { drop: ['x-resp'], block: `x-resp: ${EVIL_HEADER_VALUE}\r\n`, edits: ['x-resp', EVIL_HEADER_VALUE] } },
    { kind: 'proxy', opts: {
      route: 'route-1_a', targets: [{ upstream: 'up-1_x', weight: 50 }, { upstream: 'up-2', weight: 50 }], timeoutMs: 1000, retry: null,
      fallback: { status: 503, body: EVIL, contentType: 'text/plain; charset=utf-8', headers: [{ name: hn, value: EVIL_HEADER_VALUE }] },
    } },
    { kind: 'respond', opts: { route: 'route-2', status: 200, body: JSON.stringify({ e: EVIL }), contentType: EVIL_HEADER_VALUE, headers: [] } },
  ])
  // The `headers` stages hand their plans (the same strings) to the context, and each route ends in its terminal.
  assert.deepEqual(result.runs[0].calls, [
    { method: 'requestPlan', args: [`${hn}: ${EVIL_HEADER_VALUE}\r\n`, [hn, EVIL_HEADER_VALUE, hn + '2', null]] },
    { method: 'responsePlan', args: [`x-resp: ${EVIL_HEADER_VALUE}\r\n`, ['x-resp', EVIL_HEADER_VALUE]] },
  ])
  assert.deepEqual(result.runs.map(x => x.out), [{ reply: 'proxy', index: 5 }, { reply: 'respond', index: 6 }])
  assert.deepEqual(result.runs[1].calls, [])
  // What does not go into the module reaches the runtime through the manifest, intact.
  const ir = manifest.ir
  const jwt = ir.declarations[0] as JwtProviderIR
  assert.equal(jwt.issuer, EVIL)
  assert.equal(jwt.jwksUrl, 'https://id.example.com/jwks?x="`${a}*/</script>\u2028')
  assert.deepEqual(jwt.forward, [{ claim: EVIL, header: 'x-evil-claim' }])
  assert.deepEqual(ir.routes[0].match, { hosts: ['api.example.com'], path: { kind: 'prefix', value: PATH }, methods: [], header: { name: hn, value: EVIL_HEADER_VALUE } })
  assert.equal(ir.routes[0].source.file, FILE)
  assert.deepEqual(manifest.sources.map(s => s.file), [FILE])
  assert.equal(r.sources[0].display, FILE)
})

test('the hostile module text holds no raw line separators or `</script>`, and touches no global but Promise', () => {
  const { bundle } = compileEvil()
  const text = bundle.moduleText
  assert.ok(!/[\u2028\u2029]/.test(text), 'raw U+2028/U+2029 in the module')
  assert.ok(!/<\/script/i.test(text), '`</script>` in the module')
  assert.ok(!text.includes('<!--'), '`<!--` in the module')
  // Every line is a comment, a directive, a binding, a function or a statement the generator writes.
  for (const line of text.split('\n')) {
    assert.match(line, /^(|\/\/ .*|"use strict";|const \{ CONTINUE, stages(, heads)? \} = deps;|const [a-z]+\d+ = stages\.[a-z]+\(.*\);|const (req|res)Head\d+ = heads\.(request|response)\(.*\);|(async )?function route\d+(_\d+)?\(ctx(, r)?\) \{|\s+.*|\}|return \[[a-z0-9, ]*\];)$/, `unexpected line: ${JSON.stringify(line)}`)
  }
  // Evaluated against a global object that records every lookup: only Promise (for `instanceof`) is used.
  const seen = new Set<string>()
  const target: Record<string, unknown> = { Promise }
  const global = new Proxy(target, {
    get: (t, k) => { seen.add(String(k)); return Reflect.get(t, k) },
    has: (t, k) => { seen.add(String(k)); return Reflect.has(t, k) },
    set: (t, k, v) => { seen.add('set ' + String(k)); return Reflect.set(t, k, v) },
  })
  const build = vm.runInContext(`(function (deps) {\n${text}\n})`, vm.createContext(global)) as (d: BuildDeps) => ((ctx: unknown) => unknown)[]
  const depKeys = new Set<string>(), stageKeys = new Set<string>()
  const { deps } = recordingDeps()
  const watchedStages = new Proxy(deps.stages, { get: (t, k) => { stageKeys.add(String(k)); return Reflect.get(t, k) } })
  const watchedDeps = new Proxy({ ...deps, stages: watchedStages }, { get: (t, k) => { depKeys.add(String(k)); return Reflect.get(t, k) } })
  const handlers = build(watchedDeps)
  for (const h of handlers) h(recordingContext().ctx)
  assert.deepEqual([...seen].filter(k => k !== 'Promise'), [], 'globals the module looked up')
  assert.deepEqual([...depKeys].sort(), ['CONTINUE', 'heads', 'stages'])
  assert.deepEqual([...stageKeys].sort(), ['auth', 'proxy', 'ratelimit', 'respond'])
})

test('async stages: the generated continuation awaits them and still passes only the policy strings', async () => {
  const { bundle } = compileEvil()
  const m = verifyBundle(bundle.manifestText, bundle.moduleText)
  const { deps } = recordingDeps({ async: true })
  const loaded = instantiateBundle(m, bundle.moduleText, deps)
  const c = recordingContext()
  assert.deepEqual(await loaded.handlers[0](c.ctx), { reply: 'proxy', index: 5 })
  assert.equal(c.calls.length, 2)
})

test('values that are invalid where they stand are diagnostics, never code', () => {
  const text = [
    'route r {',
    `  match host ${q('api.example.com"); x("')} path "/r"`,
    `  headers request set X-A ${q('a\nInjected: yes')}`,
    `  headers request set X-B ${q('a\u2028b')}`,
    `  headers request set ${q('X-"C')} "v"`,
    `  headers response set ${q('Content-Length')} "0"`,
    '  timeout 1s',
    `  respond 200 header ${q('X-D')} ${q('a\r\nb')}`,
    '}',
    '',
  ].join('\n')
  const r = compile(['r.gwp'], { host: memoryHost({ 'r.gwp': text }) })
  assert.equal(r.ir, undefined)
  assert.deepEqual(r.diagnostics.map(d => `${d.code}@${d.line}`), ['E0306@2', 'E0306@3', 'E0306@4', 'E0306@5', 'E0306@6', 'E0306@8'])
})

test('an odd file name only ever appears inside one-line comments and the manifest', () => {
  const { bundle } = compileEvil()
  const comments = bundle.moduleText.split('\n').filter(l => l.includes('evil "name'))
  assert.ok(comments.length >= 2, 'the banner and the stage comments name the file')
  for (const l of comments) assert.ok(l.startsWith('// '), `file name outside a comment: ${JSON.stringify(l)}`)
})

test('a file name holding `</script>` does not put `</script>` into the module', () => {
  const file = 'a</script>.gwp'
  const r = compile([file], { host: memoryHost({ [file]: 'route r { match path "/"; timeout 1s; respond 200 }\n' }) })
  assert.equal(r.errors, 0)
  assert.ok(!/<\/script/i.test(buildBundle(r.ir!, r.sources, 'test').moduleText))
})
