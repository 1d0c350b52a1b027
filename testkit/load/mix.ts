// testkit/load/mix.ts: the request mix of a load run: a weighted list of requests, prepared once
// (headers flattened, bodies built) and picked in a fixed, deterministic order.

/** One kind of request in a mix. `body` is built once: a Buffer/string as given, or `{ size }` bytes of 'x'. */
export interface MixEntry {
  method?: string
  path: string
  headers?: Record<string, string>
  body?: Buffer | string | { size: number }
  /** Sets the Host header (for host-routed targets); the default is the target URL's host. */
  host?: string
  /** Relative weight in the mix (default 1). */
  weight?: number
}

/** A mix entry ready for undici's dispatch(): nothing is computed per request. */
export interface PreparedRequest {
  method: string
  path: string
  /** Flat [name, value, name, value…] list, names lowercased; undici copies it, so one array serves every request. */
  headers: string[]
  body: Buffer | null
  bodyBytes: number
  /** A request undici may retry on a fresh connection (GET/HEAD without body). */
  idempotent: boolean
}

export interface PreparedMix {
  entries: PreparedRequest[]
  /** Indices into `entries`, in send order; request n uses sequence[n % sequence.length]. */
  sequence: Uint16Array
}

/** Longest pick sequence for non-integer weights; proportions are then exact to ~0.1%. */
const FLOAT_SEQUENCE = 1000

/** Builds every body and header list once and lays out a smooth weighted round-robin order (nginx's). */
export function prepareMix(mix: MixEntry[]): PreparedMix {
  if (mix.length === 0) throw new Error('load: the request mix is empty')
  if (mix.length > 65535) throw new Error('load: a mix holds at most 65535 entries')
  const entries = mix.map(prepareEntry)
  const weights = mix.map((e) => {
    const w = e.weight ?? 1
    if (!(w >= 0) || !Number.isFinite(w)) throw new Error(`load: bad weight ${String(w)} for ${e.path}`)
    return w
  })
  const total = weights.reduce((a, b) => a + b, 0)
  if (total <= 0) throw new Error('load: the mix weights sum to 0')
  const integral = weights.every(Number.isInteger) && total <= 10_000
  const length = integral ? total : FLOAT_SEQUENCE
  // Smooth WRR spreads each entry evenly through the sequence instead of sending runs of one kind.
  const current = new Float64Array(weights.length)
  const sequence = new Uint16Array(length)
  for (let n = 0; n < length; n++) {
    let best = 0
    for (let i = 0; i < weights.length; i++) {
      current[i] += weights[i]
      if (current[i] > current[best]) best = i
    }
    current[best] -= total
    sequence[n] = best
  }
  return { entries, sequence }
}

function prepareEntry(e: MixEntry): PreparedRequest {
  if (typeof e.path !== 'string' || !e.path.startsWith('/')) throw new Error(`load: path must start with '/': ${String(e.path)}`)
  const method = (e.method ?? 'GET').toUpperCase()
  let body: Buffer | null = null
  if (typeof e.body === 'string') body = Buffer.from(e.body)
  else if (Buffer.isBuffer(e.body)) body = e.body
  else if (e.body !== undefined) body = Buffer.alloc(e.body.size, 'x')
  const headers: string[] = []
  for (const [k, v] of Object.entries(e.headers ?? {})) {
    const name = k.toLowerCase()
    if (name === 'content-length' || (name === 'host' && e.host !== undefined)) continue
    headers.push(name, v)
  }
  if (e.host !== undefined) headers.push('host', e.host)
  if (body !== null) headers.push('content-length', String(body.length))
  return {
    method,
    path: e.path,
    headers,
    body,
    bodyBytes: body === null ? 0 : body.length,
    idempotent: (method === 'GET' || method === 'HEAD') && body === null,
  }
}

/** A one-entry mix from CLI-style options. */
export function singleMix(method: string, path: string, headers: Record<string, string> = {}, bodySize = 0): MixEntry[] {
  return [{ method, path, headers, ...(bodySize > 0 ? { body: { size: bodySize } } : {}) }]
}
