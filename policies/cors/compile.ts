// The compile half of `cors`: `cors origins "https://app.example.com", "https://*.example.com" methods GET, POST
// headers x-trace expose x-request-id credentials max_age 10m`, clauses in any order. Checking is check.ts, the
// YAML mapping yaml.ts; the options are the IR without kind and source.
import {
  choice, fields, formatQty, list, name, printName, quantity, quote, repeat, setChange, string, word, words,
  type A, type Choice, type CompilePolicy, type Json,
} from '../../compiler/policy-api.js'
import { checkCorsStage, type CorsClause, type CorsStageIR, type CorsStmt } from './check.js'
import { matchesWildcard, splitWildcard, type CorsOptions } from './options.js'
import { readCors } from './yaml.js'

const allOrigins = (s: CorsStageIR): string[] => [...s.origins, ...s.wildcards]

function describe(s: CorsStageIR): string {
  return words('cors', allOrigins(s).join(','), s.methods.join(','), s.credentials ? 'credentials' : '', s.maxAgeS !== null ? `max_age ${formatQty('duration', s.maxAgeS * 1000)}` : '')
}

function printClause(c: CorsClause): string {
  switch (c.word) {
    case 'origins': return `origins ${c.origins!.map(o => quote(o.value)).join(', ')}`
    case 'methods': return `methods ${c.methods!.map(m => m.value).join(', ')}`
    case 'headers': case 'expose': return `${c.word} ${c.headers!.map(printName).join(', ')}`
    case 'credentials': return 'credentials'
    case 'max_age': return `max_age ${c.value!.raw}`
  }
}

export const policy: CompilePolicy<CorsStmt, CorsStageIR> = {
  kind: 'cors',
  syntax: {
    keyword: 'cors',
    pieces: [repeat('clauses', choice('clause', {
      origins: [list('origins', [string('origin')])],
      methods: [list('methods', [word('method')])],
      headers: [list('headers', [name('header')])],
      expose: [list('expose', [name('header')])],
      credentials: [],
      max_age: [quantity('value')],
    }))],
    build: (f, span): CorsStmt => ({
      kind: 'cors',
      clauses: (f.clauses as (Choice & { origins?: { origin: A.StrV }[]; methods?: { method: A.WordV }[]; headers?: { header: A.NameV }[]; expose?: { header: A.NameV }[]; value?: A.QtyV })[])
        .map((c): CorsClause => ({
          word: c.word as CorsClause['word'], span: c.span,
          ...(c.origins ? { origins: c.origins.map(x => x.origin) } : {}),
          ...(c.methods ? { methods: c.methods.map(x => x.method) } : {}),
          ...(c.headers ? { headers: c.headers.map(x => x.header) } : {}),
          ...(c.expose ? { headers: c.expose.map(x => x.header) } : {}),
          ...(c.value ? { value: c.value } : {}),
        })),
      span,
    }),
  },
  check: (ctx, s) => checkCorsStage(ctx, s),
  // one CORS policy per route: a second would answer no preflight and overwrite the first's headers
  twin: { key: () => 'cors', message: '`cors` is given twice', label: 'a route has one CORS policy', hint: 'merge the origins, methods and headers into one `cors`' },
  // A preflight carries no credentials: a stage before `cors` (auth, ratelimit, …) would refuse or count it.
  lint(ctx, ir, stmt, pipeline) {
    const i = pipeline.stages.indexOf(ir)
    if (i <= 0) return
    const before = pipeline.stages[0]
    ctx.d.error('E0477', stmt.span, `\`cors\` comes after \`${before.kind}\`: it must be the route's first stage`, {
      label: 'a preflight would meet the stages above first', hint: 'move `cors` (or the `use` of the policy holding it) above every other stage',
    })
  },
  // Preflights are OPTIONS requests, answered by the stage on routes whose match lists only other methods.
  methods: () => ['OPTIONS'],
  emit: (s, route) => {
    const options: CorsOptions = { route, origins: s.origins, wildcards: s.wildcards, methods: s.methods, headers: s.headers, expose: s.expose, credentials: s.credentials, maxAgeS: s.maxAgeS }
    return { options: options as unknown as Json }
  },
  describe,
  canWait: () => false,
  cost: () => ({ level: 0, paid: 'a CORS origin check' }),
  diff: {
    key: () => 'cors',
    text: describe,
    changes: (o, n) => [
      ...setChange('origins', allOrigins(o), allOrigins(n), 'none'),
      ...setChange('methods', o.methods, n.methods, 'none'),
      ...setChange('headers', o.headers, n.headers, 'none'),
      ...setChange('expose', o.expose, n.expose, 'none'),
      ...fields('', o, n, [['credentials', 'credentials'], ['maxAgeS', 'max_age', v => (v === null ? 'browser default' : formatQty('duration', (v as number) * 1000))]]),
    ],
  },
  explain(s, env) {
    const origin = env.headers.origin
    const who = allOrigins(s).join(', ')
    const preflight = 'a preflight (OPTIONS with Access-Control-Request-Method) is answered here: 204, or 403 for an origin, method or header not allowed'
    if (origin === undefined) return { text: `cors: origins ${who}; ${preflight}`, note: 'this request has no `Origin` header: served without CORS headers' }
    const allowed = s.origins.includes('*') || s.origins.includes(origin) || s.wildcards.some(w => matchesWildcard(origin, splitWildcard(w)))
    const asked = env.headers['access-control-request-method']
    if (asked !== undefined) {
      // explain is not told the method: with Access-Control-Request-Method an OPTIONS request is a preflight
      const wanted = (env.headers['access-control-request-headers'] ?? '').split(',').map(h => h.trim().toLowerCase()).filter(h => h !== '')
      const ok = allowed && s.methods.includes(asked) && wanted.every(h => s.headers.includes(h))
      return { text: `cors: origins ${who}; ${preflight}`, note: `as a preflight (OPTIONS) this is answered here with ${ok ? '204 and the CORS headers' : '403, no CORS headers'}; nothing below runs` }
    }
    return { text: `cors: origins ${who}; ${preflight}`, note: allowed ? `origin \`${origin}\` is allowed` : `origin \`${origin}\` is not allowed: the answer carries no CORS headers` }
  },
  print: s => words('cors', s.clauses.map(printClause).join(' ')),
  yaml: { key: 'cors', read: (r, e) => readCors(r, e), rank: () => 0 },
}
