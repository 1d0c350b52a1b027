// lab/harness/metrics-text.ts: reads the Prometheus text exposition gw serves on /metrics (just what the
// harness needs: counter and gauge samples by name and label), and the stub's connection counters, over HTTP.
import { Agent, request } from 'undici'

export interface Sample { name: string; labels: Record<string, string>; value: number }

/** Parses the text format's sample lines (`name{a="b",c="d"} 12 [timestamp]`); comments and blanks are skipped. */
export function parseMetrics(text: string): Sample[] {
  const out: Sample[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line)
    if (m === null) continue
    const labels: Record<string, string> = {}
    if (m[3] !== undefined) {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g
      let l
      while ((l = re.exec(m[3])) !== null) labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\')
    }
    const v = m[4] === '+Inf' ? Infinity : m[4] === '-Inf' ? -Infinity : Number(m[4])
    out.push({ name: m[1], labels, value: v })
  }
  return out
}

/** Sum of a metric's samples whose labels include every pair in `where`. 0 when there are none. */
export function sumMetric(samples: Sample[], name: string, where: Record<string, string> = {}): number {
  let total = 0
  for (const s of samples) {
    if (s.name !== name) continue
    if (Object.entries(where).every(([k, v]) => s.labels[k] === v)) total += s.value
  }
  return total
}

/**
 * Control requests (stats, metrics) go over long-lived connections of their own, so the stub's
 * `connectionsOpened` between two reads moves only for the traffic under test, not for the reads.
 */
let control: Agent | null = null
const controlAgent = (): Agent => (control ??= new Agent({ keepAliveTimeout: 600_000, keepAliveMaxTimeout: 600_000, connections: 2 }))

/** Closes the control connections (call once at the end of a run). */
export async function closeControl(): Promise<void> {
  const a = control
  control = null
  await a?.close()
}

/** GET a URL, resolve with the body text; rejects on a status >= 400. */
export async function getText(url: string, timeoutMs = 5000): Promise<string> {
  const res = await request(url, { dispatcher: controlAgent(), headersTimeout: timeoutMs, bodyTimeout: timeoutMs })
  const text = await res.body.text()
  if (res.statusCode >= 400) throw new Error(`GET ${url}: ${res.statusCode} ${text.slice(0, 200)}`)
  return text
}

/** Scrapes gw's /metrics on its admin origin. */
export async function scrapeGw(adminUrl: string): Promise<Sample[]> {
  return parseMetrics(await getText(`${adminUrl}/metrics`))
}

/** The upstream-side counters gw keeps (per upstream, or summed when `upstream` is undefined). */
export function gwUpstreamCounters(samples: Sample[], upstream?: string): { opened: number; closed: number; dispatched: number } {
  const where: Record<string, string> = upstream === undefined ? {} : { upstream }
  return {
    opened: sumMetric(samples, 'gw_upstream_connections_opened_total', where),
    closed: sumMetric(samples, 'gw_upstream_connections_closed_total', where),
    dispatched: sumMetric(samples, 'gw_upstream_dispatched_total', where),
  }
}

/** The stub's counters summed over every replica of its process (`?target=*`), via any one replica. */
export async function stubTotals(replicaUrl: string): Promise<{ requests: number; connectionsOpened: number; connectionsOpen: number }> {
  const s = JSON.parse(await getText(`${replicaUrl}/__stub/stats?target=*`)) as { requests: number; connectionsOpened: number; connectionsOpen: number }
  return { requests: s.requests, connectionsOpened: s.connectionsOpened, connectionsOpen: s.connectionsOpen }
}
