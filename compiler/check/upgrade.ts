// Compile side of tunnels: `upgrade PROTOCOL… [max_open N] [idle D] [lifetime D]` (runtime/tunnel/ serves it).
// Protocol names are tokens (RFC 9110 §7.8), compared lower-case; `h2c` is refused (RFC 9113 §3.1 deprecates the
// upgrade to HTTP/2, and a tunnel would carry HTTP/2 past every policy); limits have sane ranges.
import type * as A from '../../grammar/ast.js'
import { TOKEN } from '../../config/http.js'
import type { UpgradeIR } from '../../config/ir.js'
import type { CheckContext } from './context.js'
import { formatQty, optNum, readOptions } from '../values.js'

/** What a route gets for a limit it does not give. */
export const UPGRADE_DEFAULTS = { maxOpen: 1000, idleMs: 300_000, lifetimeMs: 86_400_000 }

const SCHEMA = {
  max_open: { kind: 'count', range: { min: 1, max: 1_000_000 } },
  idle: { kind: 'duration', range: { min: 1000, max: 86_400_000 } },
  // at most 7 days: a Node timer holds at most 2^31 - 1 ms (24.8 days)
  lifetime: { kind: 'duration', range: { min: 1000, max: 7 * 86_400_000 } },
} as const

/** Reads an `upgrade` statement; undefined after reporting why it cannot be one. */
export function checkUpgrade(ctx: CheckContext, s: A.UpgradeStmt): UpgradeIR | undefined {
  const o = readOptions(s.options, SCHEMA, '`upgrade`', ctx.d)
  let ok = s.options.every(x => o.has(x.name.value))
  const protocols: string[] = []
  const seen = new Map<string, A.Span>()
  for (const p of s.protocols) {
    const name = p.value.toLowerCase()
    if (!TOKEN.test(p.value)) {
      ctx.d.error('E0521', p.span, `\`${p.value}\` is not a protocol name`, { label: 'protocol names are tokens', hint: 'name the protocol as clients send it in `Upgrade:`, e.g. `websocket`' })
      ok = false
      continue
    }
    if (name === 'h2c') {
      ctx.d.error('E0521', p.span, '`h2c` cannot be tunnelled', {
        label: 'the upgrade to cleartext HTTP/2 is deprecated (RFC 9113 §3.1)',
        hint: 'its requests would pass through the tunnel unseen by any policy; serve HTTP/1.1 to the gateway instead',
      })
      ok = false
      continue
    }
    const first = seen.get(name)
    if (first !== undefined) {
      ctx.d.error('E0103', p.span, `protocol \`${p.value}\` is listed twice`, { label: 'listed again here', notes: [{ message: 'first listed here', span: first }], hint: 'keep one of them' })
      ok = false
      continue
    }
    seen.set(name, p.span)
    protocols.push(name)
  }
  const idleMs = optNum(o, 'idle') ?? UPGRADE_DEFAULTS.idleMs
  const lifetimeMs = optNum(o, 'lifetime') ?? UPGRADE_DEFAULTS.lifetimeMs
  if (o.has('idle') && idleMs >= lifetimeMs) {
    ctx.d.warn('W0790', o.get('idle')!.span, `the idle timeout (${formatQty('duration', idleMs)}) is not shorter than the tunnel lifetime (${formatQty('duration', lifetimeMs)}): it never fires`, {
      label: 'the lifetime closes the tunnel first', hint: o.has('lifetime') ? 'lower `idle` or raise `lifetime`' : `lower \`idle\`, or give a \`lifetime\` above it (the default is ${formatQty('duration', UPGRADE_DEFAULTS.lifetimeMs)})`,
    })
  }
  if (!ok) return undefined
  return { protocols, maxOpen: optNum(o, 'max_open') ?? UPGRADE_DEFAULTS.maxOpen, idleMs, lifetimeMs }
}
