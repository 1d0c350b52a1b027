// Response heads as node:http writes them, built as one latin1 string: the status line, the headers in the
// order given, then what Node adds (Date, Connection / Keep-Alive, Transfer-Encoding: chunked) by the same
// rules, so a client sees the same bytes whichever engine answers (test/runtime/http1/engine-wire.test.ts).
import { STATUS_CODES } from 'node:http'
import { HEAD_CONTENT_LENGTH, HEAD_DATE } from '../edge.js'

/** What the head says about the message after it (the response object keeps these). */
export interface HeadState {
  /** The body is sent with chunked coding. */
  chunked: boolean
  /** The connection closes after this response. */
  last: boolean
  /** Whether the connection stays open (node:http's ServerResponse#shouldKeepAlive). */
  shouldKeepAlive: boolean
}

const statusLines: string[] = []
/** `HTTP/1.1 200 OK\r\n`, built once per status. */
export function statusLine(status: number): string {
  let s = statusLines[status]
  if (s === undefined) {
    s = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'unknown'}\r\n`
    if (status >= 100 && status < 1000) statusLines[status] = s
  }
  return s
}

let dateSecond = -1
let dateLine = ''
/** `Date: …\r\n`, rebuilt once a second (node:http caches its date the same way). */
function date(): string { // HOT PATH
  const now = Date.now()
  const sec = Math.floor(now / 1000)
  if (sec !== dateSecond) { dateSecond = sec; dateLine = `Date: ${new Date(sec * 1000).toUTCString()}\r\n` }
  return dateLine
}

// Node recognises these by name whatever their case (OutgoingMessage#_storeHeader's matchHeader).
const CONNECTION = 10, CONTENT_LENGTH = 14, TRANSFER_ENCODING = 17, DATE = 4

/**
 * The head for `status` and `headers` (flat [name, value, …] pairs), then `lines` (field lines already rendered,
 * no Connection or Transfer-Encoding among them; `facts`: HEAD_* bits for the Content-Length and Date they carry),
 * terminated by the blank line. `hasBody`
 * is false for HEAD, 1xx, 204 and 304 (no framing is added then); `chunkedByDefault` is false for an HTTP/1.0
 * client (a body of unknown length is then delimited by closing); `keepAliveSeconds` > 0 adds Keep-Alive.
 * Sets `st.chunked` and `st.last`; a Connection header given decides keep-alive as in node:http. HOT PATH.
 */
export function renderHead(st: HeadState, status: number, headers: readonly string[], hasBody: boolean, chunkedByDefault: boolean, keepAliveSeconds: number, lines = '', facts = 0): string {
  let head = statusLine(status)
  let conn = false, contLen = (facts & HEAD_CONTENT_LENGTH) !== 0, te = false, hasDate = (facts & HEAD_DATE) !== 0
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i], value = headers[i + 1]
    head += name + ': ' + value + '\r\n'
    const n = name.length
    if (n === CONNECTION) {
      if (name.toLowerCase() === 'connection') {
        conn = true
        if (hasToken(value, 'close')) st.last = true
        else st.shouldKeepAlive = true
      }
    } else if (n === CONTENT_LENGTH) {
      if (name.toLowerCase() === 'content-length') contLen = true
    } else if (n === TRANSFER_ENCODING) {
      if (name.toLowerCase() === 'transfer-encoding') { te = true; if (hasToken(value, 'chunked')) st.chunked = true }
    } else if (n === DATE) {
      if (name.toLowerCase() === 'date') hasDate = true
    }
  }
  head += lines
  if (!hasDate) head += date()
  if (!conn) {
    if (st.shouldKeepAlive && (contLen || chunkedByDefault)) {
      head += keepAliveSeconds > 0 ? 'Connection: keep-alive\r\nKeep-Alive: timeout=' + keepAliveSeconds + '\r\n' : 'Connection: keep-alive\r\n'
    } else {
      st.last = true
      head += 'Connection: close\r\n'
    }
  }
  if (!contLen && !te) {
    if (!hasBody) st.chunked = false
    else if (!chunkedByDefault) st.last = true
    else { head += 'Transfer-Encoding: chunked\r\n'; st.chunked = true }
  }
  if (st.last) st.shouldKeepAlive = false
  return head + '\r\n'
}

/** Whether a comma-separated header value lists `token` (case-insensitive), as node:http's regexes test it. */
export function hasToken(value: string, token: string): boolean {
  const v = value.length === token.length ? value : ''
  if (v !== '' && v.toLowerCase() === token) return true
  const lower = value.toLowerCase()
  let at = lower.indexOf(token)
  while (at >= 0) {
    const before = at === 0 ? 32 : lower.charCodeAt(at - 1)
    const after = at + token.length >= lower.length ? 32 : lower.charCodeAt(at + token.length)
    if (!isWordChar(before) && !isWordChar(after)) return true
    at = lower.indexOf(token, at + 1)
  }
  return false
}

const isWordChar = (c: number): boolean => (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95

/** `HTTP/1.1 100 Continue` and the blank line. */
export const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n'
/** The last chunk of a chunked body (no trailers). */
export const LAST_CHUNK = '0\r\n\r\n'
