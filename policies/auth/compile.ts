// The compile half of `auth` (verify a bearer JWT) and of the `jwt NAME { … }` provider declaration it names.
// Checking is check.ts, the options emit.ts, the YAML mapping yaml.ts.
import { options, printOptions, setChange, word, words, type A, type CompilePolicy } from '../../compiler/policy-api.js'
import { checkAuthStage, checkJwtProvider, type AuthStmt } from './check.js'
import { emitAuth } from './emit.js'
import type { AuthStageIR } from './check.js'
import { readAuth } from './yaml.js'

export const policy: CompilePolicy<AuthStmt, AuthStageIR> = {
  kind: 'auth',
  syntax: {
    keyword: 'auth',
    pieces: [word('provider'), options('options')],
    build: (f, span): AuthStmt => ({ kind: 'auth', provider: f.provider as A.WordV, options: f.options as A.OptionAst[], span }),
  },
  check: (ctx, s) => checkAuthStage(ctx, s),
  // later stages may read the verified claims (`ratelimit by user|claim`, identity headers)
  provides: ['identity'],
  jwt: checkJwtProvider,
  cost: () => ({ level: 2, paid: 'a JWT verification' }),
  emit: (s, route) => ({ options: emitAuth(s, route) }),
  describe: s => `auth ${s.provider}`,
  canWait: () => true,
  diff: { key: s => `auth ${s.provider}`, changes: (o, n) => setChange('audience', o.audience, n.audience) },
  explain(s, env) {
    const p = env.bundle.jwtProviders.find(x => x.name === s.provider)
    const fwd = p && p.forward.length > 0 ? `; forwards ${p.forward.map(f => `claim ${f.claim} as ${f.header}`).join(', ')}` : ''
    const text = `auth ${s.provider}: bearer JWT from ${p?.issuer ?? '?'} (${p?.algorithms.join(', ') ?? '?'}), audience ${s.audience.length ? s.audience.join(', ') : 'not checked'}${fwd}; no valid token → 401${s.audience.length ? ', wrong audience → 403' : ''}`
    const bearer = /^bearer\s+\S/i.test(env.headers.authorization ?? '')
    return { text, note: bearer ? 'the token is verified at run time (not checked here)' : 'this request has no `Authorization: Bearer` header: the gateway would answer 401 here' }
  },
  print: s => words('auth', s.provider.value, printOptions(s.options)),
  yaml: { key: 'auth', read: (r, e, scope) => { const a = readAuth(r, e, scope.jwtNames); return a ? [a] : [] }, rank: () => 30 },
}
