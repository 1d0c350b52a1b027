// The compile half of `rewrite`: the path sent upstream (`strip`, `prefix`, `regex`) and the upstream Host
// (`host client|replica|"h"`). Checking is check.ts (the regex subset regex.ts), emission emit.ts, YAML yaml.ts.
import { choice, name, printName, quote, string, valueChange, words, type A, type Choice, type CompilePolicy } from '../../compiler/policy-api.js'
import { checkRewrite, type RewriteStageIR, type RewriteStmt } from './check.js'
import { emitRewrite, rewritePath } from './emit.js'
import { readRewrite } from './yaml.js'

function text(s: RewriteStageIR): string {
  switch (s.op) {
    case 'strip': return `rewrite strip ${s.from}`
    case 'prefix': return `rewrite prefix ${s.from || '/'} → ${s.to || '/'}`
    case 'regex': return `rewrite regex ${s.pattern} → ${s.replacement}`
    case 'host': return `rewrite host ${s.hostMode === 'fixed' ? s.host : s.hostMode}`
  }
}

type OpChoice = Choice & { from?: A.StrV; to?: A.StrV; pattern?: A.StrV; replacement?: A.StrV; host?: A.NameV }

export const policy: CompilePolicy<RewriteStmt, RewriteStageIR> = {
  kind: 'rewrite',
  syntax: {
    keyword: 'rewrite',
    pieces: [choice('op', {
      strip: [string('from')],
      prefix: [string('from'), string('to')],
      regex: [string('pattern'), string('replacement')],
      host: [name('host')],
    })],
    build: (f, span): RewriteStmt => {
      const c = f.op as OpChoice
      const base = { kind: 'rewrite' as const, span }
      switch (c.word) {
        case 'strip': return { ...base, op: 'strip', from: c.from! }
        case 'prefix': return { ...base, op: 'prefix', from: c.from!, to: c.to! }
        case 'regex': return { ...base, op: 'regex', pattern: c.pattern!, replacement: c.replacement! }
        default: return { ...base, op: 'host', host: c.host! }
      }
    },
  },
  check: (ctx, s, scope) => checkRewrite(ctx, s, scope),
  twin: {
    key: s => (s.op === 'host' ? 'host' : 'path'),
    message: '`rewrite` changes the same thing twice',
    label: 'a second rewrite of it',
    hint: 'keep one: path rewrites do not chain (one of `strip`, `prefix`, `regex`, plus at most one `host`)',
  },
  cost: () => ({ level: 0, paid: 'nothing' }),
  emit: (s, route) => emitRewrite(s, route),
  describe: s => text(s),
  canWait: () => false,
  diff: {
    key: s => (s.op === 'host' ? 'rewrite host' : 'rewrite path'),
    text: s => text(s),
    changes: (o, n) => valueChange('rewrite', text(o), text(n)),
  },
  explain: (s, env) => {
    if (s.op === 'host') {
      const what = s.hostMode === 'client' ? `the client's (${env.headers.host ?? 'none'})` : s.hostMode === 'replica' ? "the replica's host:port" : s.host!
      return { text: `rewrite host: the upstream Host is ${what}`, note: null }
    }
    const out = rewritePath(s, env.upstreamPath)
    if (out === null) return { text: text(s), note: `${env.upstreamPath} would become a path not in normal form: the gateway answers 400`, upstreamPath: env.upstreamPath }
    const note = out === env.upstreamPath ? `${env.upstreamPath} is not rewritten` : `sent upstream as ${out}`
    return { text: text(s), note, upstreamPath: out }
  },
  print: s => {
    switch (s.op) {
      case 'strip': return words('rewrite strip', quote(s.from.value))
      case 'prefix': return words('rewrite prefix', quote(s.from.value), quote(s.to.value))
      case 'regex': return words('rewrite regex', quote(s.pattern.value), quote(s.replacement.value))
      case 'host': return words('rewrite host', printName(s.host))
    }
  },
  yaml: { key: 'rewrite', read: (r, e) => readRewrite(r, e), rank: () => 60 },
}
