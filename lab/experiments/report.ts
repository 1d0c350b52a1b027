// lab/experiments/report.ts: the parts every experiment's markdown shares — the header (when, which commit,
// where each process ran, how loaded the shared machine was, notes), verdict lines and the chart links.
import type { ResultHeader } from '../harness/lifecycle.js'

/** The header block: title, run facts, CPU placement, `uptime` readings through the run, notes, then `intro`. */
export function headerMarkdown(h: ResultHeader, title: string, intro: string[]): string[] {
  const m = h.machine
  const out = [`# ${title} — ${h.name} (${h.flavour})`, '']
  out.push(`Run ${h.startedAt} → ${h.finishedAt} (${h.durationS} s), commit \`${m.commit ?? '?'}\`${m.dirty ? ' (with uncommitted changes)' : ''}, ` +
    `node ${m.node}, ${m.cpus} × ${m.cpuModel}.`, '')
  out.push(`- CPU placement: ${h.cpuPlan}.`)
  out.push(`- Machine load (shared machine; \`uptime\` 1/5/15 min): ` + h.load.map((l) => `${l.phase} ${l.loadavg.join('/')}`).join(', ') + '.')
  if (h.load[0]?.uptime) out.push(`- \`uptime\` at the start: \`${h.load[0].uptime}\``)
  for (const n of h.notes) out.push(`- ${n}`)
  out.push('')
  if (intro.length > 0) out.push(...intro, '')
  return out
}

export type Verdict = 'PASS' | 'MISS' | 'n/a'

/** A check with its verdict and the measured value that decided it. */
export interface Check { what: string; verdict: Verdict; measured: string }

export const verdict = (ok: boolean | null): Verdict => (ok === null ? 'n/a' : ok ? 'PASS' : 'MISS')

export function chartsMarkdown(charts: { name: string; file: string; error?: string }[]): string[] {
  if (charts.length === 0) return []
  const out = ['## Charts', '']
  for (const c of charts) out.push(c.error === undefined ? `![${c.name}](${c.file})` : `- ${c.name}: not rendered (${c.error})`)
  out.push('')
  return out
}

/** Prints checks as aligned lines for the terminal summary. */
export function formatChecks(checks: Check[]): string {
  return checks.map((c) => `  ${c.verdict.padEnd(4)} ${c.what}: ${c.measured}`).join('\n')
}
