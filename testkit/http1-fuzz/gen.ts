// A seeded, deterministic generator and mutator of HTTP/1.1 messages for differential testing: well-formed
// requests and responses (several pipelined, bodies by length or chunked), then hostile shapes: smuggling
// (CL+TE, duplicate or odd Content-Length, TE lists), whitespace before the colon, obs-fold, bare CR/LF, NUL and
// other control bytes, obs-text, huge chunk sizes, chunk extensions, trailers, and byte-level mutations. Each
// case also carries the split points at which the bytes are fed to the parsers.

/** mulberry32: tiny, fast, and the same sequence for the same seed everywhere. */
export class Prng {
  private s: number
  constructor(seed: number) { this.s = seed >>> 0 }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  int(n: number): number { return Math.floor(this.next() * n) }
  chance(p: number): boolean { return this.next() < p }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)] }
}

export interface Case {
  type: 'request' | 'response'
  bytes: Buffer
  /** Offsets at which the input is cut into pieces (ascending, inside the input). */
  splits: number[]
  /** For responses: the method of the request answered. */
  requestMethod: string
  /** The head size limit both parsers get. */
  maxHeaderSize: number
  /** What produced it (for reports). */
  shape: string
}

const METHODS = ['GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'CONNECT', 'M-SEARCH', 'PURGE', 'QUERY']
const BAD_METHODS = ['get', 'FOO', 'GET/', 'G ET', '', 'PRI', 'GETT', 'POST\t', 'HEAD ']
const PATHS = ['/', '/v1/orders', '/a/b/../c', '/x?y=1&z=%20', '/%00', '/a#frag', '/~user/!$&\'()*+,;=:@', '/"<>{}|\\^`', '/a b', '/\u00e9', '/\t', '*', 'http://api.test/p?q', 'https://u@h:8080/', 'api.test:443', 'abc', 'http:/x', '//x', '/a\u007f']
const VERSIONS = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0', 'HTTP/1.2', 'HTTP/2.0', 'HTTP/0.9', 'HTTP/1.', 'http/1.1', 'HTTP/11', 'HTTP/1.1 ', 'HTTP /1.1', 'HTTP/10.0']
const NAMES = ['Host', 'User-Agent', 'Accept', 'Accept-Encoding', 'Cookie', 'Set-Cookie', 'Content-Type', 'X-Request-Id', 'traceparent', 'Authorization', 'X-Forwarded-For', 'Age', 'Etag', 'From', 'X-Custom', 'x-a', 'A!#$%&\'*+-.^_`|~', 'Expect', 'Upgrade', 'Connection', 'Trailer', 'Referer', '__proto__', 'constructor']
const VALUES = ['a', 'api.test', 'text/html, */*;q=0.8', 'a=1; b=2', '', '  padded  ', 'tab\there', '\u00e9\u00ff obs-text', 'x'.repeat(40), 'quote"d', '100-continue', 'websocket', 'keep-alive', 'close', 'upgrade', 'Keep-Alive, Upgrade', 'close, keep-alive', 'a,b,,c']
const TE_VALUES = ['chunked', 'Chunked', 'CHUNKED', 'gzip, chunked', 'chunked, gzip', 'chunked,', ',chunked', 'chunked ', ' chunked', 'chunked;q=1', 'xchunked', 'chunkedx', '', 'identity', 'gzip', 'chunked, chunked', 'chunked\t', 'chun ked']
const CL_VALUES = ['0', '1', '5', '10', '010', '+1', '-1', '1 ', ' 1', '1 1', '1,1', '0x1', '', '18446744073709551615', '18446744073709551616', '9007199254740991', '9007199254740992', '99999999999999999999', '1\t']
const EXTS = ['', '', '', ';a', ';a=b', ';a="b c"', ';a="b\\"c"', ';a=', ';', '; a', ';a =b', ';a= b', ';a=b;c', ';a="\u0001"', ';a="\u00e9"', ';a=b c', ';a="b"c', ' ', '\t', ';a=b ']
const STATUSES = [200, 200, 200, 201, 204, 301, 304, 400, 404, 500, 503, 100, 101, 103, 99, 600, 999]
const REASONS = ['OK', '', 'Not Found', 'Switching Protocols', 'A\u0001B', '\u00e9', ' two  spaces']

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1')

function token(r: Prng, n: number): string {
  const chars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_'
  let s = ''
  for (let i = 0; i < n; i++) s += chars[r.int(chars.length)]
  return s
}

function bodyBytes(r: Prng, n: number): string {
  let s = ''
  for (let i = 0; i < n; i++) s += String.fromCharCode(r.chance(0.8) ? 0x61 + r.int(26) : r.int(256))
  return s
}

/** A chunked body: chunks with optional extensions, the last chunk, optional trailers, and hostile variants. */
function chunked(r: Prng, hostile: boolean): string {
  let s = ''
  const n = r.int(4)
  for (let i = 0; i < n; i++) {
    const len = r.chance(0.1) ? 0x100 + r.int(0x400) : 1 + r.int(20)
    let size = len.toString(16)
    if (r.chance(0.2)) size = size.toUpperCase()
    if (r.chance(0.1)) size = '0' + size
    s += size + (hostile && r.chance(0.3) ? r.pick(EXTS) : r.chance(0.1) ? r.pick(EXTS.slice(0, 6)) : '') + '\r\n' + bodyBytes(r, len) + '\r\n'
  }
  if (hostile && r.chance(0.15)) s += r.pick(['fffffffffffffffff', 'ffffffffffffffff', '20000000000000', '1fffffffffffff', '-1', 'g', '', '0x1', ' 1', '1 ']) + '\r\n'
  s += '0' + (hostile && r.chance(0.2) ? r.pick(EXTS) : '') + '\r\n'
  const trailers = r.int(hostile ? 3 : 2)
  for (let i = 0; i < trailers; i++) {
    s += hostile && r.chance(0.3) ? r.pick(['T : v', ' T: v', 'T: v\u0000', 'T', ': v', 'T: a\r\n b']) + '\r\n' : `${r.pick(['Trailer-X', 'Expires', 'x'])}: ${r.pick(VALUES)}\r\n`
  }
  return s + '\r\n'
}

interface Field { name: string; value: string }

/** Framing fields and their hostile combinations. Returns the fields and the body text. */
function framing(r: Prng, hostile: boolean, canHaveBody: boolean): { fields: Field[]; body: string } {
  const fields: Field[] = []
  const k = hostile ? r.int(8) : canHaveBody ? r.int(3) : 0
  let body = ''
  switch (k) {
    case 0: break
    case 1: { const b = bodyBytes(r, r.int(30)); fields.push({ name: 'Content-Length', value: String(b.length) }); body = b; break }
    case 2: fields.push({ name: 'Transfer-Encoding', value: 'chunked' }); body = chunked(r, hostile); break
    case 3: // CL + TE in either order
      if (r.chance(0.5)) fields.push({ name: 'Content-Length', value: r.pick(CL_VALUES) }, { name: 'Transfer-Encoding', value: r.pick(TE_VALUES) })
      else fields.push({ name: 'Transfer-Encoding', value: r.pick(TE_VALUES) }, { name: 'Content-Length', value: r.pick(CL_VALUES) })
      body = chunked(r, hostile)
      break
    case 4: { // duplicate Content-Length
      const v = r.pick(CL_VALUES)
      fields.push({ name: 'Content-Length', value: v }, { name: r.pick(['Content-Length', 'content-length']), value: r.chance(0.5) ? v : r.pick(CL_VALUES) })
      body = bodyBytes(r, 5)
      break
    }
    case 5: { const v = r.pick(CL_VALUES); fields.push({ name: 'Content-Length', value: v }); body = bodyBytes(r, r.int(12)); break }
    case 6: { // one or two TE fields
      fields.push({ name: 'Transfer-Encoding', value: r.pick(TE_VALUES) })
      if (r.chance(0.4)) fields.push({ name: r.pick(['Transfer-Encoding', 'transfer-encoding']), value: r.pick(TE_VALUES) })
      body = chunked(r, hostile)
      break
    }
    default: fields.push({ name: 'Transfer-Encoding', value: 'chunked' }); body = chunked(r, true)
  }
  return { fields, body }
}

function fieldLines(r: Prng, hostile: boolean, extra: Field[]): string {
  const fields: Field[] = []
  const n = r.int(hostile ? 8 : 6)
  for (let i = 0; i < n; i++) {
    const name = r.chance(0.15) ? token(r, 1 + r.int(12)) : r.pick(NAMES)
    fields.push({ name: r.chance(0.1) ? name.toLowerCase() : name, value: r.pick(VALUES) })
  }
  if (r.chance(0.02)) fields.push({ name: 'X-Big', value: 'b'.repeat(r.int(20000)) })
  for (const f of extra) fields.splice(r.int(fields.length + 1), 0, f)
  let s = ''
  for (const f of fields) {
    let sep = ': '
    if (hostile && r.chance(0.08)) sep = r.pick([' : ', ':', ':\t', '\t:', ':  ', ' :'])
    let line = f.name + sep + f.value
    if (hostile && r.chance(0.05)) line += r.pick(['\r\n folded', '\r\n\tfolded', '\n', '\r', '\u0000', '\u007f', ' \t'])
    s += line + (hostile && r.chance(0.03) ? r.pick(['\n', '\r', '\r\r\n']) : '\r\n')
  }
  return s
}

function request(r: Prng, hostile: boolean): string {
  let s = hostile && r.chance(0.1) ? r.pick(['\r\n', '\n', '\r\n\r\n', '\r']) : ''
  const method = hostile && r.chance(0.08) ? r.pick(BAD_METHODS) : r.pick(METHODS)
  const target = method === 'CONNECT' && r.chance(0.7) ? 'api.test:443' : hostile ? r.pick(PATHS) : r.pick(PATHS.slice(0, 4))
  const version = hostile && r.chance(0.1) ? r.pick(VERSIONS) : r.chance(0.85) ? 'HTTP/1.1' : 'HTTP/1.0'
  const sp = hostile && r.chance(0.05) ? r.pick(['  ', '\t', '']) : ' '
  s += `${method}${sp}${target}${hostile && r.chance(0.05) ? '  ' : ' '}${version}\r\n`
  const canHaveBody = method !== 'GET' && method !== 'HEAD' && method !== 'CONNECT'
  const { fields, body } = framing(r, hostile, canHaveBody)
  if (r.chance(0.6)) fields.unshift({ name: 'Host', value: 'api.test' })
  if (r.chance(0.1)) fields.push({ name: 'Connection', value: r.pick(['close', 'keep-alive', 'upgrade', 'Upgrade, keep-alive', 'closex']) })
  if (r.chance(0.05)) fields.push({ name: 'Upgrade', value: 'websocket' })
  return s + fieldLines(r, hostile, fields) + '\r\n' + body
}

function response(r: Prng, hostile: boolean, requestMethod: string): string {
  const version = hostile && r.chance(0.1) ? r.pick(VERSIONS) : r.chance(0.85) ? 'HTTP/1.1' : 'HTTP/1.0'
  const status = r.pick(STATUSES)
  const reason = hostile ? r.pick(REASONS) : 'OK'
  let line = `${version} ${status}${reason === '' && r.chance(0.5) ? '' : ' ' + reason}`
  if (hostile && r.chance(0.05)) line = r.pick([`${version}  ${status} OK`, `${version} ${status}0 OK`, `${version} 2 OK`, `${version} 20x OK`])
  const noBody = requestMethod === 'HEAD' || status < 200 || status === 204 || status === 304
  const { fields, body } = framing(r, hostile, true)
  if (status === 101 && r.chance(0.7)) fields.push({ name: 'Connection', value: 'upgrade' }, { name: 'Upgrade', value: 'websocket' })
  if (r.chance(0.1)) fields.push({ name: 'Connection', value: r.pick(['close', 'keep-alive']) })
  const closeBody = fields.length === 0 && !noBody ? bodyBytes(r, r.int(10)) : ''
  return `${line}\r\n${fieldLines(r, hostile, fields)}\r\n${noBody && !hostile ? '' : body}${closeBody}`
}

const INTERESTING = [0, 9, 10, 13, 32, 0x22, 0x2c, 0x3a, 0x3b, 0x3d, 0x5c, 0x7f, 0x80, 0xff, 0x30, 0x61, 0x46]

/** Byte-level mutations: insert, delete, replace with an interesting or random byte, duplicate a slice. */
function mutate(r: Prng, b: Buffer): Buffer {
  const n = 1 + r.int(3)
  let out = b
  for (let i = 0; i < n && out.length > 0; i++) {
    const at = r.int(out.length)
    const byte = r.chance(0.7) ? r.pick(INTERESTING) : r.int(256)
    switch (r.int(5)) {
      case 0: out = Buffer.concat([out.subarray(0, at), Buffer.of(byte), out.subarray(at)]); break
      case 1: out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]); break
      case 2: out = Buffer.from(out); out[at] = byte; break
      case 3: { const len = 1 + r.int(8); out = Buffer.concat([out.subarray(0, at + len), out.subarray(at, at + len), out.subarray(at + len)]); break }
      default: { // CRLF surgery: drop a CR or an LF of some line end
        const crlf = out.indexOf('\r\n', at)
        if (crlf >= 0) out = Buffer.concat([out.subarray(0, crlf + (r.chance(0.5) ? 0 : 1)), out.subarray(crlf + (r.chance(0.5) ? 1 : 2))])
      }
    }
  }
  return out
}

function splits(r: Prng, len: number): number[] {
  const k = r.chance(0.5) ? 0 : 1 + r.int(4)
  const set = new Set<number>()
  for (let i = 0; i < k && len > 1; i++) set.add(1 + r.int(len - 1))
  return [...set].sort((a, b) => a - b)
}

/** The i-th case of the stream for `seed`: depends only on (seed, i), so any case can be replayed alone. */
export function generateCase(seed: number, i: number, type: 'request' | 'response'): Case {
  const r = new Prng((Math.imul(seed, 0x9e3779b1) ^ Math.imul(i + 1, 0x85ebca6b)) >>> 0)
  const hostile = r.chance(0.6)
  const maxHeaderSize = r.chance(0.1) ? 64 + r.int(400) : 16384
  let text = ''
  let requestMethod = 'GET'
  if (type === 'request') {
    const n = r.chance(0.2) ? 2 + r.int(2) : 1
    for (let k = 0; k < n; k++) text += request(r, hostile)
  } else {
    requestMethod = r.pick(['GET', 'GET', 'POST', 'HEAD'])
    text = response(r, hostile, requestMethod)
    if (r.chance(0.15)) text += response(r, false, requestMethod)
  }
  let bytes = latin1(text)
  const mutated = hostile && r.chance(0.5)
  if (mutated) bytes = mutate(r, bytes)
  return { type, bytes, splits: splits(r, bytes.length), requestMethod, maxHeaderSize, shape: hostile ? (mutated ? 'mutated' : 'hostile') : 'valid' }
}

/** Cuts `bytes` at the given offsets. */
export function pieces(bytes: Buffer, at: number[]): Buffer[] {
  const out: Buffer[] = []
  let prev = 0
  for (const a of at) { out.push(bytes.subarray(prev, a)); prev = a }
  out.push(bytes.subarray(prev))
  return out
}
