// The `jwt NAME { … }` declaration: an identity provider whose bearer JWTs `auth NAME` verifies. Its syntax (read
// by the grammar as any policy declaration is), its check (check.ts), and how `gwc fmt`, `gwc diff` and the YAML
// front end (`jwt:`) handle it.
import {
  choice, dur, fields, identifier, keyword, list, name, options, printName, printOptions, quantity, quote, repeat, setChange, string,
  valueChange, words, type A, type Choice, type LexHint, type PolicyDeclaration, type StatementSyntax,
} from '../../compiler/policy-api.js'
import { checkJwtProvider, type JwtDecl, type JwtStmt } from './check.js'
import type { JwtProviderIR } from './options.js'
import { readJwts } from './yaml.js'

const stmt = (kw: string, pieces: StatementSyntax['pieces'], build: (f: Record<string, unknown>, span: A.Span) => JwtStmt, lexHints?: LexHint[]): StatementSyntax =>
  ({ keyword: kw, pieces, build, ...(lexHints ? { lexHints } : {}) })

/** `claim sub -> X-User-Id` (E0001 at the arrow, or at `=>`, `=`, `:`): a claim is forwarded `as` a header. */
const claimArrow: LexHint = (bad, before, after) => {
  if (bad !== '->' && bad !== '=>' && bad !== '=' && bad !== ':') return undefined
  const claim = /(?:^|[\s{;,])(?:forward\s+)?claim\s+(\S+)\s*$/.exec(before)?.[1]
  if (claim === undefined) return undefined
  const header = /^\s*([A-Za-z0-9_-]+)/.exec(after)?.[1] ?? 'X-Header'
  return `a claim is forwarded \`as\` a header: \`claim ${claim} as ${header}\``
}

/** The statements of a `jwt` block, in the order parse errors list them. */
const STATEMENTS: StatementSyntax[] = [
  stmt('issuer', [string('value')], (f, span) => ({ kind: 'issuer', value: f.value as A.StrV, span })),
  stmt('jwks', [string('url'), options('options')], (f, span) => ({ kind: 'jwks', url: f.url as A.StrV, options: f.options as A.OptionAst[], span })),
  stmt('algorithms', [repeat('values', identifier('value'), { commas: true })], (f, span) => ({ kind: 'algorithms', values: f.values as A.WordV[], span })),
  stmt('audience', [repeat('values', string('value'), { commas: true })], (f, span) => ({ kind: 'audience', values: f.values as A.StrV[], span })),
  stmt('leeway', [quantity('value')], (f, span) => ({ kind: 'leeway', value: f.value as A.QtyV, span })),
  stmt('cache', [quantity('value')], (f, span) => ({ kind: 'cache', value: f.value as A.QtyV, span })),
  // `forward claim sub as X-User-Id, claim tid as X-Tenant-Id`; a pair may start on the next line after a `,`
  stmt('forward', [list('pairs', [choice('pair', { claim: [name('claim'), keyword('as'), name('header')] })], { wrap: true })], (f, span) => ({
    kind: 'forward',
    pairs: (f.pairs as { pair: Choice & { claim: A.NameV; header: A.NameV } }[]).map(({ pair }) => ({ claim: pair.claim, header: pair.header, span: pair.span })),
    span,
  }), [claimArrow]),
]

function print(s: JwtStmt): string {
  switch (s.kind) {
    case 'issuer': return `issuer ${quote(s.value.value)}`
    case 'jwks': return words('jwks', quote(s.url.value), printOptions(s.options))
    case 'algorithms': return words('algorithms', s.values.map(w => w.value))
    case 'audience': return words('audience', s.values.map(v => quote(v.value)))
    case 'leeway': case 'cache': return `${s.kind} ${s.value.raw}`
    case 'forward': return 'forward ' + s.pairs.map(p => `claim ${printName(p.claim)} as ${printName(p.header)}`).join(', ')
  }
}

function changes(o: JwtProviderIR, n: JwtProviderIR) {
  const fwd = (p: JwtProviderIR) => p.forward.map(f => `${f.claim} as ${f.header}`)
  return [
    ...fields('', o, n, [['issuer', 'issuer'], ['jwksUrl', 'jwks'], ['refreshMs', 'refresh', dur], ['refreshAheadMs', 'refresh_ahead', dur],
      ['unknownKidCooldownMs', 'unknown_kid_cooldown', dur], ['maxStaleMs', 'max_stale', dur], ['fetchTimeoutMs', 'jwks timeout', dur]]),
    ...setChange('algorithms', o.algorithms, n.algorithms),
    ...setChange('audience', o.audience, n.audience),
    ...valueChange('leeway', o.leewayMs, n.leewayMs, dur),
    ...setChange('forward', fwd(o), fwd(n)),
    ...valueChange('cache', o.tokenCacheSize, n.tokenCacheSize),
  ]
}

export const jwtDeclaration: PolicyDeclaration<JwtProviderIR> = {
  syntax: { keyword: 'jwt', what: 'jwt provider', statements: STATEMENTS },
  check: (ctx, d) => checkJwtProvider(ctx, d as JwtDecl),
  identityHeaders: p => p.forward.map(f => f.header),
  print: s => print(s as JwtStmt),
  diff: { summary: p => `issuer ${p.issuer}`, changes },
  yaml: { key: 'jwt', read: readJwts },
}
