// YAML mapping of `ratelimit`: `ratelimit: { key: user|ip|header:N|claim:N, limit, window, burst, store, fail }`
// (one map or a list of them) → `ratelimit by KEY LIMIT per WINDOW [burst N] [redis] [fail_open|fail_closed]`.
import { closest, yamlName, type A, type YamlEntry, type YamlNode, type YamlReader } from '../../compiler/policy-api.js'
import type { RatelimitStmt } from './check.js'

const KEY_KINDS = ['user', 'consumer', 'ip', 'header', 'claim'] as const

function readKey(r: YamlReader, n: YamlNode, path: string, at: A.Span): RatelimitStmt['key'] | undefined {
  const s = r.str(n, path, at, '`user`, `ip`, `header:NAME` or `claim:NAME`')
  if (s === undefined) return undefined
  const i = s.value.indexOf(':')
  const kind = (i < 0 ? s.value : s.value.slice(0, i)).trim()
  const rest = i < 0 ? '' : s.value.slice(i + 1).trim()
  if (!(KEY_KINDS as readonly string[]).includes(kind)) {
    const guess = closest(kind, KEY_KINDS)
    r.d.error('E0206', s.span, `unknown rate-limit key \`${s.value}\``, { label: 'not a key', hint: guess ? `did you mean \`${guess}${rest ? ':' + rest : ''}\`?` : 'limit by `user`, `ip`, `header:NAME` or `claim:NAME`' })
    return undefined
  }
  if (kind === 'user' || kind === 'consumer' || kind === 'ip') {
    if (rest !== '') { r.d.error('E0306', s.span, `\`${kind}\` takes no name`, { hint: `write \`${kind}\`` }); return undefined }
    return { kind, name: null, span: s.span }
  }
  if (rest === '') { r.d.error('E0104', s.span, `\`${kind}\` needs a name`, { label: 'which one?', hint: `write \`${kind}:NAME\`` }); return undefined }
  const at2 = r.text.indexOf(rest, s.span.offset)
  const nameSpan = at2 >= 0 && at2 < s.span.offset + s.span.len ? r.spanAt(at2, at2 + rest.length) : s.span
  return { kind: kind as 'header' | 'claim', name: yamlName(rest, nameSpan), span: s.span }
}

/** `ratelimit:` is one map or a list of them; each becomes `ratelimit by KEY LIMIT per WINDOW …`. */
export function readRatelimits(r: YamlReader, e: YamlEntry): RatelimitStmt[] {
  const list = r.isList(e.value) ? r.list(e, 'a map or a list of maps', false) ?? [] : [{ node: e.value, path: e.path }]
  const out: RatelimitStmt[] = []
  for (const it of list) {
    const span = it.path === e.path ? e.keySpan : r.span(it.node, e.keySpan)
    const f = r.fields(it.node, it.path, ['key', 'limit', 'window', 'burst', 'store', 'fail'], span)
    if (f === undefined) continue
    for (const k of ['key', 'limit', 'window'] as const) {
      if (!f.has(k)) r.d.error('E0104', span, `\`${it.path}\` has no \`${k}\``, { label: `\`${k}\` missing`, hint: 'write e.g. `ratelimit: { key: ip, limit: 100, window: 1s }`' })
    }
    const k = f.get('key'), l = f.get('limit'), w = f.get('window')
    const key = k && readKey(r, k.value, k.path, k.keySpan)
    const limit = l && r.qty(l.value, l.path, l.keySpan)
    const window = w && r.qty(w.value, w.path, w.keySpan)
    const options: A.OptionAst[] = []
    for (const x of f.values()) {
      if (x.key === 'burst') { const q = r.qty(x.value, x.path, x.keySpan); if (q) options.push(r.option('burst', x.keySpan, [q])) }
      if (x.key === 'store' || x.key === 'fail') {
        const s = r.str(x.value, x.path, x.keySpan, x.key === 'store' ? '`local` or `redis`' : '`open` or `closed`')
        const allowed = x.key === 'store' ? ['local', 'redis'] : ['open', 'closed']
        if (s === undefined) continue
        if (!allowed.includes(s.value)) { r.d.error('E0206', s.span, `\`${x.path}\` is \`${allowed[0]}\` or \`${allowed[1]}\`, not \`${s.value}\``, { label: 'unknown value' }); continue }
        options.push(r.option(x.key === 'store' ? s.value : `fail_${s.value}`, s.span))
      }
    }
    if (key && limit && window) out.push({ kind: 'ratelimit', key, limit, window, options, span })
  }
  return out
}
