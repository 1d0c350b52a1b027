// YAML mapping of `auth`: `auth: { required, provider, aud }` (or `auth: true|false`) → `auth PROVIDER audience "…"`,
// and of the top-level `jwt:` declarations → `jwt NAME { … }`.
import { isWord, type A, type YamlEntry, type YamlReader } from '../../compiler/policy-api.js'
import type { AuthStmt, ForwardStmt, JwtStmt } from './check.js'

const JWT_KEYS = ['issuer', 'jwks', 'refresh', 'refresh_ahead', 'unknown_kid_cooldown', 'max_stale', 'fetch_timeout', 'algorithms', 'audience', 'leeway', 'cache', 'forward'] as const
const JWKS_OPTIONS: Record<string, string> = { refresh: 'refresh', refresh_ahead: 'refresh_ahead', unknown_kid_cooldown: 'unknown_kid_cooldown', max_stale: 'max_stale', fetch_timeout: 'timeout' }

/** `auth: { required, provider, aud }` (or `auth: true|false`); `required: false` means no auth stage. */
export function readAuth(r: YamlReader, e: YamlEntry, jwtNames: string[]): AuthStmt | undefined {
  let provider: A.WordV | undefined
  /** `provider: [idp, partners]` → `auth idp or partners`. */
  const or: A.WordV[] = []
  const options: A.OptionAst[] = []
  if (r.scalarText(e.value) !== undefined) {
    if (r.bool(e.value, e.path, e.keySpan) !== true) return undefined
  } else {
    const f = r.fields(e.value, e.path, ['required', 'provider', 'aud', 'audience'], e.keySpan)
    if (f === undefined) return undefined
    const req = f.get('required')
    if (req !== undefined && r.bool(req.value, req.path, req.keySpan) !== true) return undefined
    const p = f.get('provider')
    if (p !== undefined) {
      const items = r.list(p, 'a provider name or a list of them')
      if (items === undefined) return undefined
      // no provider is no auth stage: refused, or the route would be open to everyone
      if (items.length === 0) {
        r.d.error('E0104', p.keySpan, `\`${p.path}\` is empty`, { label: 'no provider', hint: 'name the jwt or keys provider that verifies the credential (`auth: false` for a route without auth)' })
        return undefined
      }
      for (const it of items) {
        const s = r.str(it.node, it.path, p.keySpan, 'a jwt provider name')
        if (s === undefined) return undefined
        const w = r.declName(s.value, s.span, 'jwt provider')
        if (w === undefined) return undefined
        if (provider === undefined) provider = w
        else or.push(w)
      }
    }
    // `aud` and `audience` in the order written: the second is reported where it is, and the first is read
    const [a, again] = [...f.values()].filter(x => x.key === 'aud' || x.key === 'audience')
    if (again !== undefined) r.d.error('E0102', again.keySpan, 'the audience is given twice', { notes: [{ message: 'first given here', span: a.keySpan }], hint: '`aud` and `audience` are the same key: keep one' })
    if (a !== undefined) {
      const values = (r.list(a, 'a string or a list of strings') ?? []).map(i => r.str(i.node, i.path, a.keySpan)).filter((v): v is A.StrV => v !== undefined)
      if (values.length > 0) options.push(r.option('audience', a.keySpan, values))
    }
  }
  if (provider === undefined) {
    if (jwtNames.length !== 1) {
      r.d.error('E0104', e.keySpan, `\`${e.path}\` has no \`provider\``, {
        label: 'which jwt provider verifies the token?',
        hint: jwtNames.length === 0 ? 'declare one under `jwt:` and name it with `provider: NAME`' : `name one of ${jwtNames.map(n => '`' + n + '`').join(', ')} with \`provider: NAME\``,
      })
      return undefined
    }
    provider = { kind: 'word', value: jwtNames[0], span: e.keySpan }
  }
  return { kind: 'auth', provider, ...(or.length > 0 ? { or } : {}), options, span: e.keySpan }
}

/** `jwt: { NAME: { issuer, jwks, refresh, algorithms, audience, forward, … } }` → `jwt NAME { … }` blocks. */
export function readJwts(r: YamlReader, e: YamlEntry): A.Declaration[] {
  const out: A.Declaration[] = []
  for (const j of r.entries(e.value, e.path, e.keySpan) ?? []) {
    const name = r.declName(j.key, j.keySpan, 'jwt provider')
    const f = r.fields(j.value, j.path, JWT_KEYS, j.keySpan)
    if (name === undefined || f === undefined) continue
    const body: JwtStmt[] = []
    const iss = f.get('issuer')
    if (iss !== undefined) { const v = r.str(iss.value, iss.path, iss.keySpan, 'a URL'); if (v) body.push({ kind: 'issuer', value: v, span: iss.keySpan }) }
    const jwks = f.get('jwks')
    if (jwks !== undefined) {
      const url = r.str(jwks.value, jwks.path, jwks.keySpan, 'a URL')
      const options: A.OptionAst[] = []
      for (const x of f.values()) {
        if (!(x.key in JWKS_OPTIONS)) continue
        const q = r.qty(x.value, x.path, x.keySpan)
        if (q !== undefined) options.push(r.option(JWKS_OPTIONS[x.key], x.keySpan, [q]))
      }
      if (url !== undefined) body.push({ kind: 'jwks', url, options, span: jwks.keySpan })
    }
    const algs = f.get('algorithms')
    if (algs !== undefined) {
      const values: A.WordV[] = []
      for (const i of r.list(algs, 'a list of algorithm names') ?? []) {
        const s = r.str(i.node, i.path, algs.keySpan, 'an algorithm name')
        if (s === undefined) continue
        if (r.isIdentifier(s.value)) values.push({ kind: 'word', value: s.value, span: s.span })
        else r.d.error('E0206', s.span, `unknown JWT algorithm \`${s.value}\``, { hint: 'choose from RS256, ES256, EdDSA, …' })
      }
      if (values.length > 0) body.push({ kind: 'algorithms', values, span: algs.keySpan })
    }
    const aud = f.get('audience')
    if (aud !== undefined) {
      const values = (r.list(aud, 'a string or a list of strings') ?? []).map(i => r.str(i.node, i.path, aud.keySpan)).filter((v): v is A.StrV => v !== undefined)
      if (values.length > 0) body.push({ kind: 'audience', values, span: aud.keySpan })
    }
    for (const k of ['leeway', 'cache'] as const) {
      const x = f.get(k)
      const q = x && r.qty(x.value, x.path, x.keySpan)
      if (x && q) body.push({ kind: k, value: q, span: x.keySpan })
    }
    const fwd = f.get('forward')
    if (fwd !== undefined) {
      // `forward: { CLAIM: HEADER }`, e.g. `{ sub: X-User-Id, tid: X-Tenant-Id }`.
      const pairs: ForwardStmt['pairs'] = []
      for (const x of r.entries(fwd.value, fwd.path, fwd.keySpan) ?? []) {
        const claim: A.NameV = isWord(x.key) ? { kind: 'word', value: x.key, span: x.keySpan } : { kind: 'str', value: x.key, span: x.keySpan }
        const header = r.nameV(x.value, x.path, x.keySpan)
        if (header !== undefined) pairs.push({ claim, header, span: x.keySpan })
      }
      if (pairs.length > 0) body.push({ kind: 'forward', pairs, span: fwd.keySpan })
    }
    out.push({ kind: 'jwt' as unknown as A.DeclKind, name, body, span: j.keySpan, endLine: r.endLine(j.value, j.keySpan.line) })
  }
  return out
}
