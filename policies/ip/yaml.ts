// YAML mapping of `ip`: `ip: { allow: [CIDR, …], deny: [CIDR, …] }` (a single CIDR may stand alone) →
// `ip allow "CIDR", …` and `ip deny "CIDR", …`.
import type { A, YamlEntry, YamlReader } from '../../compiler/policy-api.js'
import type { IpStmt } from './check.js'

export function readIp(r: YamlReader, e: YamlEntry): IpStmt[] {
  const f = r.fields(e.value, e.path, ['allow', 'deny'], e.keySpan)
  if (f === undefined) return []
  if (f.size === 0) {
    r.d.error('E0104', e.keySpan, `\`${e.path}\` has neither \`allow\` nor \`deny\``, { label: 'no IP list', hint: 'write e.g. `ip: { allow: ["10.0.0.0/8"] }`' })
    return []
  }
  const out: IpStmt[] = []
  for (const mode of ['deny', 'allow'] as const) {
    const x = f.get(mode)
    if (x === undefined) continue
    const items = r.list(x, 'an address or CIDR range, or a list of them')
    if (items === undefined) continue
    const entries = items.map(i => r.str(i.node, i.path, x.keySpan, 'an address or CIDR range')).filter((v): v is A.StrV => v !== undefined)
    if (items.length === 0) {
      r.d.error('E0104', x.keySpan, `\`${x.path}\` is empty`, { label: 'no address', hint: mode === 'allow' ? 'an empty allow list would refuse every client: list the ranges to admit' : 'list the ranges to refuse, or remove the key' })
      continue
    }
    if (entries.length === items.length) out.push({ kind: 'ip', mode, entries, span: x.keySpan })
  }
  return out
}
