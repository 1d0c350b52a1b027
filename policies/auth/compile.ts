// The compile half of `auth` (verify a bearer JWT against a `jwt NAME { … }` provider, or an API key against a
// `keys NAME { … }` one; `auth a or b` accepts either) and of the two provider declarations it names (jwt.ts,
// keys.ts). Checking is check.ts, the options emit.ts, the YAML mapping yaml.ts.
import { options, printOptions, setChange, valueChange, word, words, type A, type CompilePolicy } from '../../compiler/policy-api.js'
import { checkAuthStage, type AuthStmt } from './check.js'
import { emitAuth } from './emit.js'
import type { AuthStageIR } from './check.js'
import { jwtDeclaration } from './jwt.js'
import { keysDeclaration } from './keys.js'
import { keysCommand } from './keys-command.js'
import type { JwtProviderIR, KeysProviderIR, ProviderIR } from './options.js'
import { readAuth } from './yaml.js'

const providers = (s: AuthStageIR): string[] => [s.provider, ...(s.or ?? [])]

/** `or NAME` pairs at the head of an `auth` option list: the providers after the first. */
function splitOr(os: A.OptionAst[]): { or: A.WordV[]; rest: A.OptionAst[] } {
  const or: A.WordV[] = []
  let i = 0
  while (i + 1 < os.length && os[i].name.value === 'or' && os[i].values.length === 0 && os[i + 1].values.length === 0) { or.push(os[i + 1].name); i += 2 }
  return { or, rest: os.slice(i) }
}

function explainProvider(p: ProviderIR | undefined, s: AuthStageIR): string {
  if (p?.kind === 'keys') {
    const fwd = p.forwardConsumer !== null ? `; forwards the consumer as ${p.forwardConsumer}` : ''
    return `API key in ${p.key.in === 'header' ? `header ${p.key.name}` : `query parameter ${p.key.name}`} (SHA-256 hashes in ${p.store.kind === 'file' ? p.store.path : `Redis hash ${p.store.hash}`})${fwd}`
  }
  const j = p as JwtProviderIR | undefined
  const fwd = j && j.forward.length > 0 ? `; forwards ${j.forward.map(f => `claim ${f.claim} as ${f.header}`).join(', ')}` : ''
  return `bearer JWT from ${j?.issuer ?? '?'} (${j?.algorithms.join(', ') ?? '?'}), audience ${s.audience.length ? s.audience.join(', ') : 'not checked'}${fwd}`
}

/** Whether the request of `gwc explain` presents `p`'s credential. */
function presents(p: ProviderIR | undefined, headers: Record<string, string>, query: string): boolean {
  if (p?.kind === 'keys') return p.key.in === 'header' ? headers[p.key.name] !== undefined : new URLSearchParams(query).has(p.key.name)
  return /^bearer\s+\S/i.test(headers.authorization ?? '')
}

export const policy: CompilePolicy<AuthStmt, AuthStageIR> = {
  kind: 'auth',
  syntax: {
    keyword: 'auth',
    // `auth idp or partners audience "x"`: `or NAME` reads as two bare options (a keyword piece before the option
    // list would be ambiguous with an option named `or`, and Chevrotain's lookahead analysis of that costs seconds)
    pieces: [word('provider'), options('options')],
    build: (f, span): AuthStmt => {
      const { or, rest } = splitOr(f.options as A.OptionAst[])
      return { kind: 'auth', provider: f.provider as A.WordV, ...(or.length > 0 ? { or } : {}), options: rest, span }
    },
  },
  declarations: [jwtDeclaration, keysDeclaration],
  commands: [keysCommand],
  check: (ctx, s) => checkAuthStage(ctx, s),
  // later stages may read the verified claims (`ratelimit by user|claim`, identity headers) or the key's consumer
  provides: ['identity', 'consumer'],
  establishes: s => s.facts,
  consumes: s => s.consumes,
  cost: s => (s.jwt ? { level: 2, paid: 'a JWT verification' } : { level: 1, paid: 'an API-key check' }),
  emit: (s, route) => ({ options: emitAuth(s, route) }),
  describe: s => `auth ${providers(s).join(' or ')}`,
  canWait: () => true,
  diff: {
    key: s => `auth ${s.provider}`,
    changes: (o, n) => [...valueChange('or', o.or ?? [], n.or ?? []), ...setChange('audience', o.audience, n.audience)],
  },
  explain(s, env) {
    const decl = (n: string) => env.bundle.declarations.find(x => x.name === n) as ProviderIR | undefined
    const names = providers(s)
    const query = env.query ?? ''
    if (names.length === 1) {
      const p = decl(s.provider)
      const text = `auth ${s.provider}: ${explainProvider(p, s)}; no valid ${p?.kind === 'keys' ? 'key' : 'token'} → 401${s.audience.length && p?.kind !== 'keys' ? ', wrong audience → 403' : ''}`
      const ok = presents(p, env.headers, query)
      const note = p?.kind === 'keys'
        ? (ok ? 'the key is checked at run time (not checked here)' : `this request has no \`${p.key.name}\` ${p.key.in === 'header' ? 'header' : 'query parameter'}: the gateway would answer 401 here`)
        : (ok ? 'the token is verified at run time (not checked here)' : 'this request has no `Authorization: Bearer` header: the gateway would answer 401 here')
      return { text, note }
    }
    const text = `auth ${names.join(' or ')}: the first of ${names.map(n => `${n} (${explainProvider(decl(n), s)})`).join(', ')} whose credential the request presents decides; none → 401`
    const first = names.find(n => presents(decl(n), env.headers, query))
    return { text, note: first === undefined ? 'this request presents no credential any of them reads: the gateway would answer 401 here' : `\`${first}\` decides (checked at run time, not here)` }
  },
  print: s => words('auth', [s.provider.value, ...(s.or ?? []).flatMap(w => ['or', w.value])].join(' '), printOptions(s.options)),
  yaml: {
    key: 'auth',
    read: (r, e, scope) => { const a = readAuth(r, e, [...(scope.declared.get('jwt') ?? []), ...(scope.declared.get('keys') ?? [])]); return a ? [a] : [] },
    rank: () => 30,
  },
}

export type { KeysProviderIR }
