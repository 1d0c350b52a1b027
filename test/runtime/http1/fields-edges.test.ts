// test/runtime/http1/fields-edges.test.ts: the edges of runtime/http1/fields.ts that fields-mut leaves loose (issue
// 14, area engine): the byte tables exactly as RFC 9110/9112 define them (and as node's llhttp takes each byte),
// the small exported helpers (carryOver, latin1, bytesEqualLower, tokenFlags) on exact inputs, and scanFields'
// own checks through both head parsers: OWS, Content-Length, Transfer-Encoding, Connection, Upgrade, Expect, the
// field count, a head that starts inside its buffer, and that no byte at or past `end` (or the size limit) is read.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  DIGIT_BYTE, HEX_VALUE, TARGET_BYTE, TOKEN_BYTE, VALUE_BYTE, bytesEqualLower, carryOver, latin1, tokenFlags,
} from '../../../runtime/http1/fields.js'
import { HeadFailure, parseRequestHead, type HeadLimits, type RequestHead } from '../../../runtime/http1/request-parser.js'
import { parseResponseHead, type ResponseHead } from '../../../runtime/http1/response-parser.js'
import { compareCase } from '../../../testkit/http1-fuzz/compare.js'
import type { Case } from '../../../testkit/http1-fuzz/gen.js'

const LIMITS: HeadLimits = { maxHeadBytes: 16 * 1024, maxHeaders: 256 }
const bytes = (s: string): Buffer => Buffer.from(s, 'latin1')
const req = (s: string, limits = LIMITS): RequestHead | HeadFailure | null => { const b = bytes(s); return parseRequestHead(b, 0, b.length, limits) }
const res = (s: string, method = 'GET'): ResponseHead | HeadFailure | null => { const b = bytes(s); return parseResponseHead(b, 0, b.length, LIMITS, method) }
function reqHead(s: string): RequestHead {
  const r = req(s)
  assert.ok(r !== null && !(r instanceof HeadFailure), `refused ${JSON.stringify(s)}: ${r === null ? 'incomplete' : (r as HeadFailure).detail}`)
  return r
}
function resHead(s: string, method = 'GET'): ResponseHead {
  const r = res(s, method)
  assert.ok(r !== null && !(r instanceof HeadFailure), `refused ${JSON.stringify(s)}: ${r === null ? 'incomplete' : (r as HeadFailure).detail}`)
  return r
}
const refusal = (r: unknown): string => (r instanceof HeadFailure ? `${r.status} ${r.reason}: ${r.detail}` : `accepted ${JSON.stringify(r)}`)
/** What node's llhttp (strict, as node:http runs it) says of the same bytes, compared by the fuzzer's comparator. */
const verdict = (type: 'request' | 'response', text: string, requestMethod = 'GET'): string =>
  compareCase({ type, bytes: bytes(text), splits: [], requestMethod, maxHeaderSize: 16384, shape: 'pinned' } satisfies Case, false).kind

test('the byte tables are exactly RFC 9110/9112: tchar, field-value bytes, request-target VCHARs, digits, hex values', () => {
  const tchar = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
  const expect = (f: (c: number) => number): number[] => Array.from({ length: 256 }, (_, c) => f(c))
  assert.deepEqual([...TOKEN_BYTE], expect(c => (tchar.includes(String.fromCharCode(c)) ? 1 : 0)))
  assert.deepEqual([...VALUE_BYTE], expect(c => (c === 0x09 || (c >= 0x20 && c <= 0x7e) || c >= 0x80 ? 1 : 0)))
  assert.deepEqual([...TARGET_BYTE], expect(c => (c >= 0x21 && c <= 0x7e ? 1 : 0)))
  assert.deepEqual([...DIGIT_BYTE], expect(c => (c >= 0x30 && c <= 0x39 ? 1 : 0)))
  assert.deepEqual([...HEX_VALUE], expect(c => { const v = parseInt(String.fromCharCode(c), 16); return /[0-9a-fA-F]/.test(String.fromCharCode(c)) ? v : 255 }))
  for (const t of [TOKEN_BYTE, VALUE_BYTE, TARGET_BYTE, DIGIT_BYTE, HEX_VALUE]) assert.equal(t.length, 256)
})

test('each byte in a field name, a field value and a request-target: gw takes it exactly when its table says so, as llhttp does', () => {
  for (let c = 0; c < 256; c++) {
    const ch = String.fromCharCode(c)
    if (c === 0x3a || c === 0x0d || c === 0x0a) continue // ':' ends a name, CR and LF end a line: other shapes
    const name = `GET / HTTP/1.1\r\nA${ch}b: v\r\n\r\n`
    assert.equal(req(name) instanceof HeadFailure, TOKEN_BYTE[c] !== 1, `name byte ${c}`)
    assert.equal(verdict('request', name), 'agree', `name byte ${c}`)
    const value = `GET / HTTP/1.1\r\nX: a${ch}b\r\n\r\n`
    assert.equal(req(value) instanceof HeadFailure, VALUE_BYTE[c] !== 1, `value byte ${c}`)
    if (VALUE_BYTE[c] === 1) assert.deepEqual(reqHead(value).rawHeaders, ['X', `a${ch}b`])
    assert.equal(verdict('request', value), 'agree', `value byte ${c}`)
    if (c === 0x20) continue // SP ends a target
    const target = `GET /a${ch}b HTTP/1.1\r\n\r\n`
    assert.equal(req(target) instanceof HeadFailure, TARGET_BYTE[c] !== 1, `target byte ${c}`)
    assert.equal(verdict('request', target), 'agree', `target byte ${c}`)
  }
})

test('carryOver: the chunk itself when nothing is left over, else the left-over bytes then the chunk', () => {
  const buf = bytes('abcdef')
  const chunk = bytes('XY')
  assert.equal(carryOver(buf, 3, 3, chunk), chunk) // the same Buffer: no copy
  assert.equal(carryOver(buf, 6, 6, chunk), chunk)
  const joined = carryOver(buf, 2, 5, chunk)
  assert.equal(joined.toString('latin1'), 'cdeXY')
  assert.notEqual(joined, chunk)
  assert.equal(carryOver(buf, 0, 6, bytes('')).toString('latin1'), 'abcdef')
})

test('latin1: every byte 0-255 becomes the char of that code, only buf[start, end)', () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i))
  assert.equal(latin1(all, 0, 256), String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i)))
  assert.equal(latin1(bytes('xHost: aY'), 1, 8), 'Host: a')
})

test('bytesEqualLower: the bytes spell the lower-case word in any case, compared over its length only', () => {
  const eq = (s: string, at: number, w: string): boolean => bytesEqualLower(bytes(s), at, w)
  assert.equal(eq('close', 0, 'close'), true)
  assert.equal(eq('CLOSE', 0, 'close'), true)
  assert.equal(eq('x:Keep-Alive', 2, 'keep-alive'), true)
  assert.equal(eq('closes', 0, 'close'), true) // the caller checks the length
  assert.equal(eq('clOsf', 0, 'close'), false)
  assert.equal(eq('xlose', 0, 'close'), false)
  assert.equal(eq('clos', 0, 'close'), false)
  assert.equal(eq('100-continue', 0, '100-continue'), true)
  assert.equal(eq('100_continue', 0, '100-continue'), false)
  assert.equal(eq('', 0, ''), true)
})

test('tokenFlags: comma-separated elements, OWS before each and SP after each trimmed, case-insensitive, within [start, end)', () => {
  const names = ['close', 'keep-alive', 'upgrade']
  const f = (s: string, start = 0, end = Buffer.byteLength(s, 'latin1')): number => tokenFlags(bytes(s), start, end, names)
  assert.equal(f('close'), 1)
  assert.equal(f('Keep-Alive'), 2)
  assert.equal(f('UPGRADE'), 4)
  assert.equal(f('close, keep-alive,upgrade'), 7)
  assert.equal(f('x, close'), 1)
  assert.equal(f('x,\tclose'), 1)
  assert.equal(f('x,, ,\t, keep-alive ,'), 2)
  assert.equal(f('close ,x'), 1)
  assert.equal(f('close  '), 1)
  assert.equal(f('close\t'), 0) // a tab after an element is not trimmed (llhttp: "close\t" is no close)
  assert.equal(f('closed, xclose, clos'), 0)
  assert.equal(f('keep-alive-x, upgradey'), 0)
  assert.equal(f(''), 0)
  assert.equal(f(' ,  , '), 0)
  // only [start, end) counts: what lies before or after is another element's business
  assert.equal(f('closeX', 0, 5), 1)
  assert.equal(f('xxclose', 2), 1)
  assert.equal(f('x,close', 2), 1)
  assert.equal(f('close, upgrade', 0, 6), 1)
  assert.equal(f('close ,keep-alive', 0, 6), 1)
  assert.equal(f('a, close,upgrade', 3, 8), 1)
  assert.equal(f(', close', 1), 1)
  assert.equal(f('   close', 2), 1)
})

test('field-value OWS: leading SP and HTAB and trailing SP and HTAB are trimmed, inner ones kept, as llhttp does', () => {
  const cases: Array<[string, string]> = [
    ['X:\ta', 'a'], ['X: \t a', 'a'], ['X: a \t', 'a'], ['X: a\t', 'a'], ['X: a ', 'a'], ['X: a b', 'a b'], ['X: a\tb', 'a\tb'],
    ['X:', ''], ['X: ', ''], ['X: \t ', ''], ['X: \xe9\xff', '\xe9\xff'],
  ]
  for (const [line, value] of cases) {
    const text = `GET / HTTP/1.1\r\n${line}\r\nY: z\r\n\r\n`
    assert.deepEqual(reqHead(text).rawHeaders, ['X', value, 'Y', 'z'], JSON.stringify(line))
    assert.equal(verdict('request', text), 'agree', JSON.stringify(line))
    const r = `HTTP/1.1 200 OK\r\n${line}\r\nContent-Length: 0\r\n\r\n`
    assert.deepEqual(resHead(r).rawHeaders, ['X', value, 'Content-Length', '0'], JSON.stringify(line))
    assert.equal(verdict('response', r), 'agree', JSON.stringify(line))
  }
  assert.equal(refusal(req('GET / HTTP/1.1\r\nX: a\x7fb\r\n\r\n')), '400 malformed: invalid header field value')
})

test('Content-Length: digits, then only SP; the exact number up to 2^53 - 1', () => {
  const cl = (v: string): number | string => { const r = req(`POST / HTTP/1.1\r\nContent-Length:${v}\r\n\r\n`); return r instanceof HeadFailure || r === null ? refusal(r) : r.contentLength }
  assert.equal(cl(' 0'), 0)
  assert.equal(cl(' 12'), 12)
  assert.equal(cl(' 907'), 907)
  assert.equal(cl(' 1234567890'), 1234567890)
  assert.equal(cl(' 12 '), 12)
  assert.equal(cl('12  '), 12)
  assert.equal(cl(' 9007199254740991'), Number.MAX_SAFE_INTEGER)
  const bad = '400 malformed: invalid Content-Length'
  for (const v of [' 9007199254740992', ' 12\t', ' 1 2', ' x', ' 1x', ' -1', '', ' ', '  ', '\t']) assert.equal(cl(v), bad, JSON.stringify(v))
  for (const v of [' 12 ', ' 12\t', ' 1 2', ' ', '\t', ' 9007199254740991']) {
    const text = `POST / HTTP/1.1\r\nContent-Length:${v}\r\n\r\n`
    assert.ok(['agree', 'stricter:content-length-range'].includes(verdict('request', text)), JSON.stringify(v))
  }
  const r = resHead('HTTP/1.1 200 OK\r\nContent-Length: 34 \r\n\r\n')
  assert.deepEqual([r.body, r.contentLength], ['length', 34])
})

test('Transfer-Encoding: the last coding decides, chunked anywhere else (or twice) is refused in a request', () => {
  const te = (...values: string[]): string => {
    const r = req(`POST / HTTP/1.1\r\n${values.map(v => `Transfer-Encoding:${v}\r\n`).join('')}\r\n`)
    return r instanceof HeadFailure || r === null ? refusal(r) : r.body
  }
  const TE = '400 malformed: Transfer-Encoding whose final coding is not chunked'
  const EMPTY = '501 unsupported_transfer_coding: empty Transfer-Encoding'
  const table: Array<[string[], string]> = [
    [[' chunked'], 'chunked'], [[' CHUNKED'], 'chunked'], [[' chunked '], 'chunked'], [[' chunked  '], 'chunked'],
    [[' gzip, chunked'], 'chunked'], [[' gzip,chunked'], 'chunked'], [[' gzip,\tchunked'], 'chunked'], [[' gzip , chunked'], 'chunked'],
    [[' gzip', ' chunked'], 'chunked'], [[' gzip,\t  chunked'], 'chunked'],
    [[' chunked\t'], TE], [[' chunked,'], TE], [[' chunked, '], TE], [[' chunked, chunked'], TE], [[' chunked', ' chunked'], TE],
    [[' chunked', ' gzip'], TE], [[' chunked, gzip'], TE], [[' gzip'], TE], [[' deflate'], TE], [[' chunkedx'], TE],
    [[' xchunked'], TE], [[' chunke'], TE], [[' gzip, chunked, identity'], TE], [[' chunked;q=1'], TE],
    [[''], EMPTY], [[' '], EMPTY], [['\t '], EMPTY], [[' chunked', ''], EMPTY],
  ]
  for (const [values, expected] of table) assert.equal(te(...values), expected, JSON.stringify(values))
  // llhttp agrees on every one of them but the empty field (which it ignores: a listed stricter refusal)
  for (const [values, expected] of table) {
    const text = `POST / HTTP/1.1\r\n${values.map(v => `Transfer-Encoding:${v}\r\n`).join('')}\r\n${expected === EMPTY ? '' : '0\r\n\r\n'}`
    assert.equal(verdict('request', text), expected === EMPTY ? 'stricter:empty-transfer-encoding' : 'agree', JSON.stringify(values))
  }
  // with a Content-Length: refused, whichever the coding
  assert.equal(refusal(req('POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\nContent-Length: 1\r\n\r\n')), '400 malformed: Content-Length with Transfer-Encoding')
  assert.equal(refusal(req('POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n')), '400 http10_transfer_encoding: Transfer-Encoding in an HTTP/1.0 request')
  // a response: the last coding decides between chunked and read-until-close; an empty one still counts as present
  const body = (...values: string[]): string => {
    const r = res(`HTTP/1.1 200 OK\r\n${values.map(v => `Transfer-Encoding:${v}\r\n`).join('')}\r\n`)
    return r instanceof HeadFailure || r === null ? refusal(r) : `${r.body} ${r.keepAlive}`
  }
  assert.equal(body(' chunked'), 'chunked true')
  assert.equal(body(' chunked '), 'chunked true')
  assert.equal(body(' gzip'), 'close false')
  assert.equal(body(' chunked, gzip'), 'close false')
  assert.equal(body(' gzip, chunked'), 'chunked true')
  assert.equal(body(' chunked', ' chunked'), 'chunked true')
  assert.equal(body(' chunked,'), 'close false')
  assert.equal(body(''), 'close false')
  assert.equal(refusal(res('HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\nContent-Length: 0\r\n\r\n')), '400 malformed: Content-Length with Transfer-Encoding')
  for (const v of [' chunked', ' gzip', ' chunked, gzip', ' chunked,', ' chunked\t']) {
    assert.equal(verdict('response', `HTTP/1.1 200 OK\r\nTransfer-Encoding:${v}\r\n\r\n0\r\n\r\n`), 'agree', JSON.stringify(v))
  }
})

test('Connection and Proxy-Connection: close, keep-alive and upgrade tokens decide keep-alive and upgrade as llhttp does', () => {
  const kaUp = (version: string, fields: string): string => { const h = reqHead(`GET / HTTP/${version}\r\nHost: a\r\n${fields}\r\n`); return `${h.keepAlive} ${h.upgrade}` }
  const table: Array<[string, string, string]> = [
    ['1.1', '', 'true false'],
    ['1.1', 'Connection: close\r\n', 'false false'],
    ['1.1', 'Connection: CLOSE\r\n', 'false false'],
    ['1.1', 'Connection: x, close\r\n', 'false false'],
    ['1.1', 'Connection: x,\tclose\r\n', 'false false'],
    ['1.1', 'Connection: close \r\n', 'false false'],
    ['1.1', 'Connection: close\t\r\n', 'true false'],
    ['1.1', 'Connection: closed\r\n', 'true false'],
    ['1.1', 'Connection: close\r\nX: a, b\r\n', 'false false'],
    ['1.1', 'Proxy-Connection: close\r\n', 'false false'],
    ['1.1', 'Connection: keep-alive\r\nProxy-Connection: close\r\n', 'false false'],
    ['1.1', 'Connection: Keep-Alive, close\r\n', 'false false'],
    ['1.1', 'X-Connection: close\r\n', 'true false'],
    ['1.1', 'Keep-Alive: close\r\n', 'true false'],
    ['1.0', '', 'false false'],
    ['1.0', 'Connection: keep-alive\r\n', 'true false'],
    ['1.0', 'Connection: x, Keep-Alive \r\n', 'true false'],
    ['1.0', 'Proxy-Connection: keep-alive\r\n', 'true false'],
    ['1.0', 'Connection: keep-alive\r\nConnection: close\r\n', 'true false'], // 1.0 asks for keep-alive; close is 1.1's word
    ['1.1', 'Connection: upgrade\r\nUpgrade: websocket\r\n', 'true true'],
    ['1.1', 'Upgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n', 'true true'],
    ['1.1', 'Upgrade: websocket\r\n', 'true false'],
    ['1.1', 'Connection: upgrade\r\n', 'true false'],
    ['1.1', 'Connection: upgrade\r\nUpgrade:\r\n', 'true false'],
    ['1.1', 'Connection: upgrade\r\nUpgrade: \r\n', 'true false'],
    ['1.1', 'Connection: upgrade\r\nX-Upgrade: websocket\r\n', 'true false'],
    ['1.1', 'Connection: upgrade\r\nUpgrade: h2c\r\nConnection: close\r\n', 'false true'],
    ['1.1', 'Connection: upgrade\r\nUpgrade: x\r\nExpect: 100-continue\r\n', 'true true'],
  ]
  for (const [version, fields, expected] of table) {
    assert.equal(kaUp(version, fields), expected, `${version} ${JSON.stringify(fields)}`)
    assert.equal(verdict('request', `GET / HTTP/${version}\r\nHost: a\r\n${fields}\r\n`), 'agree', `${version} ${JSON.stringify(fields)}`)
  }
  // a 101 must name the protocol: an empty Upgrade names none
  assert.equal(refusal(res('HTTP/1.1 101 Switching Protocols\r\nUpgrade: \r\nConnection: upgrade\r\n\r\n')), '400 malformed: 101 without Upgrade')
  assert.equal(resHead('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n').upgrade, true)
  assert.equal(resHead('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 0\r\n\r\n').keepAlive, false)
  assert.equal(resHead('HTTP/1.0 200 OK\r\nProxy-Connection: keep-alive\r\nContent-Length: 0\r\n\r\n').keepAlive, true)
})

test('Expect: exactly 100-continue (any case, OWS trimmed) in the Expect field, nothing else', () => {
  const ec = (fields: string): boolean => reqHead(`POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\n${fields}\r\n`).expectContinue
  assert.equal(ec('Expect: 100-continue\r\n'), true)
  assert.equal(ec('expect:100-Continue \r\n'), true)
  assert.equal(ec('EXPECT: \t100-CONTINUE\t\r\n'), true)
  for (const f of ['', 'Expect: 100-continue-x\r\n', 'Expect: 100-continu\r\n', 'Expect: 100-continuX\r\n', 'Expect: abcdefghijkl\r\n',
    'Expect: 200-continue\r\n', 'X: 100-continue\r\n', 'X-Expect: 100-continue\r\n', 'Expectation: 100-continue\r\n', 'Expect:\r\n',
    'Accept: 100-continue\r\n', 'Via: 100-Continue\r\n']) { // other known names with that value
    assert.equal(ec(f), false, JSON.stringify(f))
  }
})

test('the field count: exactly maxHeaders fields are taken, one more is refused with 431', () => {
  const fields = (n: number): string => `GET / HTTP/1.1\r\n${Array.from({ length: n }, (_, i) => `F${i}: ${i}\r\n`).join('')}\r\n`
  for (const max of [1, 3, 64, 65]) {
    const ok = req(fields(max), { maxHeadBytes: 16384, maxHeaders: max })
    assert.ok(ok !== null && !(ok instanceof HeadFailure), `${max} fields of ${max}: ${refusal(ok)}`)
    assert.equal(ok.rawHeaders.length, 2 * max)
    assert.equal(refusal(req(fields(max + 1), { maxHeadBytes: 16384, maxHeaders: max })), '431 too_many_headers: more header fields than the limit')
  }
})

test('a head that starts inside its buffer (a pipelined one): names and values are its own slices', () => {
  const first = 'GET /1 HTTP/1.1\r\nHost: a\r\n\r\n'
  const second = 'GET /2 HTTP/1.1\r\nX-Odd-Name: v1\r\nHOST: b\r\nx-lower: v2\r\n\r\n'
  const b = bytes(first + second)
  const h = parseRequestHead(b, first.length, b.length, LIMITS)
  assert.ok(h !== null && !(h instanceof HeadFailure), refusal(h))
  assert.equal(h.target, '/2')
  assert.deepEqual(h.rawHeaders, ['X-Odd-Name', 'v1', 'HOST', 'b', 'x-lower', 'v2'])
  assert.deepEqual(h.headers, { 'x-odd-name': 'v1', host: 'b', 'x-lower': 'v2' })
  assert.equal(h.size, second.length)
  const r1 = 'HTTP/1.1 204 No Content\r\n\r\n'
  const r2 = 'HTTP/1.1 200 OK\r\nX-Thing: t\r\nContent-Length: 0\r\n\r\n'
  const rb = bytes(r1 + r2)
  const r = parseResponseHead(rb, r1.length, rb.length, LIMITS, 'GET')
  assert.ok(r !== null && !(r instanceof HeadFailure), refusal(r))
  assert.deepEqual(r.rawHeaders, ['X-Thing', 't', 'Content-Length', '0'])
  assert.equal(r.size, r2.length)
})

/** Heads (accepted and refused) whose every cut point is checked below. */
const HEADS = [
  'GET / HTTP/1.1\r\nHost: a\r\nX-Long-Name: some value\r\nContent-Length: 12\r\n\r\n',
  'POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\nConnection: keep-alive, upgrade\r\nUpgrade: h2c\r\nExpect: 100-continue\r\n\r\n',
  'GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n', // obs-fold
  'GET / HTTP/1.1\r\nX: a\r\n\tb\r\n\r\n',
  'GET / HTTP/1.1\r\nContent-Length: x\r\nY: z\r\n\r\n',
  'GET / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n',
  'GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n',
  'GET / HTTP/1.1\r\nX: a \t\r\nName-Only\r\n\r\n',
  'GET / HTTP/1.1\r\nX:\t\r\n\r\n',
]

test('no byte at or past `end` is read: a head cut at any byte reads as those bytes alone (incomplete, or the same refusal)', () => {
  const limits = { maxHeadBytes: 16384, maxHeaders: 3 }
  for (const text of HEADS) {
    const full = bytes(text)
    const whole = parseRequestHead(full, 0, full.length, limits)
    for (let k = 0; k < full.length; k++) {
      const inBuffer = parseRequestHead(full, 0, k, limits)
      const alone = parseRequestHead(Buffer.from(full.subarray(0, k)), 0, k, limits)
      assert.deepEqual(inBuffer, alone, `${JSON.stringify(text)} cut at ${k}`)
      // a prefix is incomplete unless the whole head is refused at or before that point
      if (!(whole instanceof HeadFailure)) assert.equal(inBuffer, null, `${JSON.stringify(text)} cut at ${k}: ${refusal(inBuffer)}`)
    }
    const r = bytes(text.replace(/^GET \/ HTTP\/1.1/, 'HTTP/1.1 200 OK'))
    for (let k = 0; k < r.length; k++) {
      assert.deepEqual(parseResponseHead(r, 0, k, limits, 'GET'), parseResponseHead(Buffer.from(r.subarray(0, k)), 0, k, limits, 'GET'), `${JSON.stringify(text)} response cut at ${k}`)
    }
  }
})

test('no byte at or past the size limit is read: a head larger than the limit reads as its first maxHeadBytes bytes', () => {
  for (const text of HEADS) {
    const full = bytes(text)
    for (let m = 1; m < full.length; m++) {
      const limits = { maxHeadBytes: m, maxHeaders: 3 }
      const capped = parseRequestHead(full, 0, full.length, limits)
      assert.deepEqual(capped, parseRequestHead(Buffer.from(full.subarray(0, m)), 0, m, limits), `${JSON.stringify(text)} limit ${m}`)
      assert.ok(capped instanceof HeadFailure, `${JSON.stringify(text)} limit ${m}`)
    }
  }
  // the final CRLF one byte past the limit: 431, not a head
  const text = 'GET / HTTP/1.1\r\nHost: a\r\n\r\n'
  assert.equal(refusal(req(text, { maxHeadBytes: text.length - 1, maxHeaders: 10 })), '431 headers_too_large: head larger than the limit')
  assert.equal(reqHead(text).size, text.length)
  assert.equal(refusal(req(`${text.slice(0, -2)} b\r\n\r\n`, { maxHeadBytes: text.length - 2, maxHeaders: 10 })), '431 headers_too_large: head larger than the limit')
})
