// YAML mapping of `auth`: `auth: { required, provider, aud }` (or `auth: true|false`) → `auth PROVIDER audience "…"`.
import type { A, YamlEntry, YamlReader } from '../../compiler/policy-api.js'
import type { AuthStmt } from './check.js'

/** `auth: { required, provider, aud }` (or `auth: true|false`); `required: false` means no auth stage. */
export function readAuth(r: YamlReader, e: YamlEntry, jwtNames: string[]): AuthStmt | undefined {
  let provider: A.WordV | undefined
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
      const s = r.str(p.value, p.path, p.keySpan, 'a jwt provider name')
      if (s === undefined) return undefined
      provider = r.declName(s.value, s.span, 'jwt provider')
      if (provider === undefined) return undefined
    }
    const aud = f.get('aud'), audience = f.get('audience')
    if (aud !== undefined && audience !== undefined) r.d.error('E0102', audience.keySpan, 'the audience is given twice', { notes: [{ message: 'first given here', span: aud.keySpan }], hint: '`aud` and `audience` are the same key: keep one' })
    const a = aud ?? audience
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
  return { kind: 'auth', provider, options, span: e.keySpan }
}
