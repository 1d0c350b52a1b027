// The compile half of `ip allow "CIDR", …` / `ip deny "CIDR", …`: client address lists, answered with 403.
// Checking is check.ts (entries in cidr.ts), the YAML mapping yaml.ts.
import { choice, list, quote, setChange, string, type A, type Choice, type CompilePolicy } from '../../compiler/policy-api.js'
import { checkIpStage, lintIp, type IpStageIR, type IpStmt } from './check.js'
import { readIp } from './yaml.js'

const shown = (s: IpStageIR) => s.entries.join(', ')

export const policy: CompilePolicy<IpStmt, IpStageIR> = {
  kind: 'ip',
  syntax: {
    keyword: 'ip',
    pieces: [choice('mode', { allow: [], deny: [] }), list('entries', [string('cidr')])],
    build: (f, span): IpStmt => {
      const mode = f.mode as Choice
      return { kind: 'ip', mode: mode.word as IpStmt['mode'], entries: (f.entries as { cidr: A.StrV }[]).map(e => e.cidr), span }
    },
  },
  check: (ctx, s) => checkIpStage(ctx, s),
  // Two allow lists (or two deny lists) on one route would both have to pass: the intersection, which
  // nobody reading them one at a time expects. One of each; merge the entries.
  twin: {
    key: s => s.mode,
    message: 'an IP list of this kind is given twice',
    label: 'a second list of the same kind',
    hint: 'merge the entries into one list (a route has at most one `ip allow` and one `ip deny`)',
  },
  cost: () => ({ level: 1, paid: 'a local IP-list decision' }),
  cheapReject: (_ctx, s) => `ip ${s.mode}`,
  lint: (ctx, ir, s, pipeline) => lintIp(ctx, ir, s, pipeline),
  emit: (s, route) => ({ options: { route, mode: s.mode, entries: s.entries } }),
  describe: s => `ip ${s.mode} ${shown(s)}`,
  canWait: () => false,
  diff: {
    key: s => `ip ${s.mode}`,
    text: s => `ip ${s.mode} ${shown(s)}`,
    changes: (o, n) => setChange('entries', o.entries, n.entries, 'none'),
  },
  explain: s => ({
    text: s.mode === 'allow'
      ? `ip allow: only clients in ${shown(s)} pass; any other client → 403 {"error":"forbidden"}`
      : `ip deny: clients in ${shown(s)} → 403 {"error":"forbidden"}`,
    note: 'the client is the connection\'s peer address, or behind a trusted proxy the rightmost X-Forwarded-For address that is not one (docs/operations.md)',
  }),
  print: s => `ip ${s.mode} ${s.entries.map(e => quote(e.value)).join(', ')}`,
  yaml: { key: 'ip', read: (r, e) => readIp(r, e), rank: () => 5 },
}
