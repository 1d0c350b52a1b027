// Starts a real gateway (runtime/serve) on free loopback ports from .gwp text, for integration tests.
// The policy is compiled in-process exactly as `gw run file.gwp` does; `reload(text)` swaps the policy.
import { pino, type Logger } from 'pino'
import { Agent, request, type Dispatcher } from 'undici'
import { compile } from '../../compiler/compile.js'
import { buildBundle } from '../../compiler/bundle.js'
import { memoryHost } from '../../compiler/sources.js'
import { verifyBundle } from '../../config/bundle.js'
import { loadSettings, type Settings } from '../../config/settings.js'
import { serve, type Running } from '../../runtime/serve.js'

export interface TestGateway {
  running: Running
  url: string
  adminUrl: string
  /** Replace the policy text and reload (rejects when it does not compile or load). */
  reload(text: string): Promise<{ version: string; changed: boolean; ms: number }>
  close(): Promise<void>
}

/** Compiles policy text to a verified in-memory bundle; throws with the diagnostics when it has errors. */
export function bundleFrom(text: string, file = 'test.gwp') {
  const r = compile([file], { host: memoryHost({ [file]: text }) })
  if (r.ir === undefined) throw new Error('policy does not compile:\n' + r.diagnostics.map(d => `${d.file}:${d.line}:${d.col} ${d.code} ${d.message}`).join('\n'))
  const b = buildBundle(r.ir, r.sources)
  return { manifest: verifyBundle(b.manifestText, b.moduleText), moduleText: b.moduleText }
}

/** `opts.log` replaces the process logger (e.g. to capture its lines); by default it logs at `logLevel`. */
export async function startGateway(text: string, settings: Partial<Record<keyof Settings, unknown>> = {}, opts: { log?: Logger } = {}): Promise<TestGateway> {
  let current = text
  const s = loadSettings(undefined, { listen: '127.0.0.1:0', admin: '127.0.0.1:0', accessLog: false, logLevel: 'silent', ...settings })
  const running = await serve(s, { load: async () => bundleFrom(current) }, { log: opts.log ?? pino({ level: s.logLevel }) })
  return {
    running,
    url: `http://127.0.0.1:${running.address.port}`,
    adminUrl: `http://127.0.0.1:${running.adminAddress!.port}`,
    reload: (t: string) => { current = t; return running.reload() },
    close: async () => { await running.shutdown('test') },
  }
}

/** A GET/POST through a fresh or given dispatcher; the body is read as text. */
export async function call(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer; dispatcher?: Dispatcher } = {}) {
  const res = await request(url, { method: (opts.method ?? 'GET') as Dispatcher.HttpMethod, headers: opts.headers, body: opts.body, dispatcher: opts.dispatcher })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text, json: () => JSON.parse(text) }
}

/** Metric value from the admin /metrics text, e.g. metric(text, 'gw_requests_total', {route: 'a', code: '2xx'}). */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue
    const m = /^([^{ ]+)(?:\{(.*)\})? (.+)$/.exec(line)
    if (m === null || m[1] !== name) continue
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map(x => [x[1], x[2]]))
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3])
  }
  return undefined
}

export const newAgent = (): Agent => new Agent({ keepAliveTimeout: 10_000, connections: 16 })
