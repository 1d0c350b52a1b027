// Parses an HTTP/1.1 response head from an upstream (RFC 9112 §4, §6.3), with the same field rules as requests
// (fields.ts), and decides how its body is framed given the request it answers.
import {
  C_CLOSE, C_KEEP_ALIVE, CR, DIGIT_BYTE, F_204_CL, F_CL_TE, F_STATUS, F_SWITCH, F_TOO_LARGE, F_VERSION, FieldScan, HeadFailure,
  LF, SP, VALUE_BYTE, latin1, scanFields,
} from './fields.js'
import type { HeadLimits } from './request-parser.js'

export interface ResponseHead {
  status: number; reason: string; versionMinor: 0 | 1
  /** [name, value, …] as sent (values with OWS trimmed). */
  rawHeaders: string[]
  /** Lower-case names, folded as node:http folds duplicates (see RequestHead.headers). */
  headers: Record<string, string | string[] | undefined>
  /** none: HEAD, 1xx, 204, 304, a 2xx to CONNECT, a 101 upgrade; close: read until the upstream closes
   *  (no Content-Length, or a Transfer-Encoding whose final coding is not chunked). */
  body: 'none' | 'length' | 'chunked' | 'close'; contentLength: number // -1 when not 'length'
  /** The connection may carry another request (false whenever body is 'close'). */
  keepAlive: boolean
  /** 101 (which must carry Upgrade), or a 2xx to CONNECT: the bytes after the head are a tunnel. */
  upgrade: boolean
  /** Bytes the head took, final CRLF CRLF included. */
  size: number
}

const scan = new FieldScan()
const VERSION_PREFIX = Buffer.from('HTTP/1.', 'latin1')

/**
 * Parses the response head starting at buf[start] and ending before buf[end]; `requestMethod` is the method of
 * the request it answers (HEAD and CONNECT change the framing). Returns the head, a HeadFailure, or null when
 * the head is not complete yet and fewer than `limits.maxHeadBytes` bytes have been seen. Never throws.
 * A 1xx other than 101 is a head of its own: parse again from `start + size` for the final response.
 */
export function parseResponseHead(buf: Buffer, start: number, end: number, limits: HeadLimits, requestMethod: string): ResponseHead | HeadFailure | null { // HOT PATH
  const limit = end - start > limits.maxHeadBytes ? start + limits.maxHeadBytes : end
  const more = end - start >= limits.maxHeadBytes ? F_TOO_LARGE : null
  let p = start
  while (p < limit && (buf[p] === CR || buf[p] === LF)) p++ // llhttp skips empty lines before a message

  // "HTTP/1." DIGIT SP 3DIGIT (SP reason | CRLF). Only 1.0 and 1.1 (llhttp also takes 0.9 and 2.0).
  for (let i = 0; i < 9; i++) {
    if (p + i >= limit) return more
    const b = buf[p + i]
    if (i < 7 ? b !== VERSION_PREFIX[i] : i === 7 ? b !== 0x30 && b !== 0x31 : b !== SP) return F_VERSION
  }
  const versionMinor: 0 | 1 = buf[p + 7] === 0x31 ? 1 : 0
  p += 9
  for (let i = 0; i < 3; i++) {
    if (p + i >= limit) return more
    if (DIGIT_BYTE[buf[p + i]] !== 1) return F_STATUS
  }
  const status = (buf[p] - 0x30) * 100 + (buf[p + 1] - 0x30) * 10 + (buf[p + 2] - 0x30)
  // llhttp takes 000-999; below 100 is no status a client can be given (writeHead refuses it).
  if (status < 100) return F_STATUS
  p += 3
  if (p >= limit) return more
  let r0 = p
  if (buf[p] === SP) {
    r0 = ++p
    while (p < limit && VALUE_BYTE[buf[p]] === 1) p++
    if (p >= limit) return more
  }
  if (buf[p] !== CR) return F_STATUS
  if (p + 1 >= limit) return more
  if (buf[p + 1] !== LF) return F_STATUS
  const reason = latin1(buf, r0, p)
  p += 2

  scan.reset()
  const done = scanFields(buf, p, limit, limits.maxHeaders, more, scan)
  if (typeof done !== 'number') return done

  const { contentLength, conn } = scan
  if (scan.te && contentLength !== -1) return F_CL_TE // llhttp refuses it for responses too
  // RFC 9110 §8.6: no Content-Length in a 204. One announcing bytes may be followed by them, which would be
  // read as the next response: undici refuses it (llhttp alone would not), so does gw.
  if (status === 204 && contentLength > 0) return F_204_CL
  // RFC 9110 §15.2.2: a 101 names the protocol switched to. llhttp stops parsing at any 101; gw refuses one
  // that does not say what comes next.
  if (status === 101 && !scan.upgradeField) return F_SWITCH
  const upgrade = status === 101 || (requestMethod === 'CONNECT' && status >= 200 && status < 300)
  // How the body would be framed were the request not HEAD (RFC 9112 §6.3 rules 4-7)...
  let framed: ResponseHead['body']
  if (upgrade || status < 200 || status === 204 || status === 304) framed = 'none'
  else if (scan.te) framed = scan.chunked ? 'chunked' : 'close' // the last coding decides (llhttp too)
  else if (contentLength >= 0) framed = 'length'
  else framed = 'close'
  const body = requestMethod === 'HEAD' ? 'none' : framed
  return {
    status, reason, versionMinor, rawHeaders: scan.rawHeaders, headers: scan.headers,
    body, contentLength: body === 'length' ? contentLength : -1,
    // ... which also decides keep-alive after a HEAD (as llhttp, node:http and undici: a HEAD answer without
    // a length closes the connection, in case the server sends a body anyway).
    keepAlive: framed !== 'close' && (versionMinor === 1 ? (conn & C_CLOSE) === 0 : (conn & C_KEEP_ALIVE) !== 0),
    upgrade,
    size: done - start,
  }
}

export { HeadFailure }
