// lab/tax/early.ts: "the upstream answers before reading the body": a 1 MB POST to the stub's /early, which
// replies at once and discards the rest. Through each proxy the client must get that answer, finish (or be told
// to stop) its upload, and find its connection usable: the next request on it works, or the proxy said
// `Connection: close` and closed it. A connection that stalls mid-upload or never answers is the failure.
import { rawConnect, type RawConnection, type RawResponse } from '../harness/raw-http.js'

export interface EarlyAttempt {
  /** ms from the first byte sent to the early answer's head, or null when none came. */
  answerMs: number | null
  status: number | null
  /** Whether the proxy announced `Connection: close` on the answer. */
  announcedClose: boolean
  /** Body bytes the client managed to write, of `bodyBytes`; and when it finished (null: it stalled or the socket closed). */
  uploaded: number
  uploadMs: number | null
  /** What happened to the connection: the next request's answer, or why there was none. */
  next: { ok: true; status: number; ms: number } | { ok: false; why: string }
  /** ok: answered, upload not stalled, and the connection either serves the next request or was closed as announced. */
  verdict: 'ok' | 'closed-as-announced' | 'hung' | 'no-answer' | 'broken'
}

export interface EarlyResult {
  target: string
  attempts: EarlyAttempt[]
  /** attempts whose verdict is ok or closed-as-announced. */
  good: number
  medianAnswerMs: number | null
  summary: string
}

export interface EarlyOptions {
  bodyBytes?: number
  /** How long the upload may take after the answer before it counts as stalled. Default 5 s. */
  stallMs?: number
  host?: string
  /** The follow-up request's path (must answer 200 through this target). */
  nextPath?: string
}

const CHUNK = 64 * 1024

/** One attempt against `origin` (http://host:port). */
export async function earlyAttempt(origin: string, o: EarlyOptions = {}): Promise<EarlyAttempt> {
  const u = new URL(origin)
  const bodyBytes = o.bodyBytes ?? 1_048_576
  const stallMs = o.stallMs ?? 5000
  const host = o.host ?? 'api.bench.test'
  const c: RawConnection = await rawConnect(u.hostname, Number(u.port))
  try {
    const t0 = c.now()
    await c.write(`POST /early HTTP/1.1\r\nhost: ${host}\r\ncontent-type: application/octet-stream\r\ncontent-length: ${bodyBytes}\r\n\r\n`)
    // Upload and wait for the answer at the same time: the answer is expected long before the upload ends.
    let uploaded = 0
    let uploadMs: number | null = null
    const chunk = Buffer.alloc(CHUNK, 'x')
    const upload = (async () => {
      while (uploaded < bodyBytes) {
        const n = Math.min(CHUNK, bodyBytes - uploaded)
        if (!(await c.write(n === CHUNK ? chunk : chunk.subarray(0, n)))) return
        uploaded += n
      }
      uploadMs = c.now() - t0
    })()
    let answer: RawResponse | null = null
    try { answer = await c.next(stallMs) } catch { answer = null }
    if (answer === null) {
      return { answerMs: null, status: null, announcedClose: false, uploaded, uploadMs, next: { ok: false, why: c.closed ? `connection ${c.closeReason}` : 'no answer' }, verdict: 'no-answer' }
    }
    const announcedClose = /\bclose\b/i.test(answer.headers.connection ?? '')
    // Give the upload its chance to finish; a proxy that stopped reading leaves it blocked on a full window.
    let timer: NodeJS.Timeout | undefined
    await Promise.race([upload, new Promise((r) => { timer = setTimeout(r, stallMs) })])
    clearTimeout(timer)
    const base = { answerMs: Math.round((answer.headAt - t0) * 100) / 100, status: answer.status, announcedClose, uploaded, uploadMs: uploadMs === null ? null : Math.round((uploadMs as number) * 10) / 10 }
    if (uploadMs === null && !c.closed) return { ...base, next: { ok: false, why: `upload stalled at ${uploaded} of ${bodyBytes} bytes` }, verdict: 'hung' }
    if (c.closed) {
      const why = `connection ${c.closeReason} after the answer`
      return { ...base, next: { ok: false, why }, verdict: announcedClose ? 'closed-as-announced' : 'broken' }
    }
    const t1 = c.now()
    await c.write(`GET ${o.nextPath ?? '/pass/1'} HTTP/1.1\r\nhost: ${host}\r\n\r\n`)
    try {
      const r = await c.next(stallMs)
      const ms = Math.round((r.endAt - t1) * 100) / 100
      return { ...base, next: { ok: true, status: r.status, ms }, verdict: r.status < 400 ? 'ok' : 'broken' }
    } catch (e) {
      const why = (e as Error).message
      const closedAfter = c.closed
      return { ...base, next: { ok: false, why }, verdict: closedAfter ? (announcedClose ? 'closed-as-announced' : 'broken') : 'hung' }
    }
  } finally {
    c.close()
  }
}

/** `attempts` sequential attempts against one target, summarised. */
export async function earlyCheck(target: string, origin: string, attempts = 5, o: EarlyOptions = {}): Promise<EarlyResult> {
  const list: EarlyAttempt[] = []
  for (let i = 0; i < attempts; i++) {
    try { list.push(await earlyAttempt(origin, o)) } catch (e) {
      list.push({ answerMs: null, status: null, announcedClose: false, uploaded: 0, uploadMs: null, next: { ok: false, why: (e as Error).message }, verdict: 'broken' })
    }
  }
  const good = list.filter((a) => a.verdict === 'ok' || a.verdict === 'closed-as-announced').length
  const times = list.map((a) => a.answerMs).filter((x): x is number => x !== null).sort((a, b) => a - b)
  const medianAnswerMs = times.length === 0 ? null : times[times.length >> 1]
  const verdicts = new Map<string, number>()
  for (const a of list) verdicts.set(a.verdict, (verdicts.get(a.verdict) ?? 0) + 1)
  const first = list.find((a) => a.verdict !== 'ok')
  const summary = `${good}/${list.length} good (${[...verdicts].map(([k, n]) => `${k} ${n}`).join(', ')})` +
    (medianAnswerMs !== null ? `, answer in ${medianAnswerMs} ms (median)` : '') +
    (list[0]?.next.ok ? `, next request on the same connection ${list[0].next.status} in ${list[0].next.ms} ms` : '') +
    (first !== undefined && !first.next.ok ? `; e.g. ${first.next.why}` : '')
  return { target, attempts: list, good, medianAnswerMs, summary }
}
