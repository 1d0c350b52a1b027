// test/runtime/http1/body.test.ts: ChunkedDecoder: data handed over as subarrays of the input (no copy), every
// split point of a sample gives the same bytes, chunk extensions and trailers validated as llhttp does, sizes
// bounded, strict CRLF, and it stops exactly at the end of the body (what follows is the next message).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BodyFailure, ChunkedDecoder } from '../../../runtime/http1/body.js'

const b = (s: string): Buffer => Buffer.from(s, 'latin1')

/** Feeds `pieces` in turn; returns the body, the bytes consumed of the last piece, and done (or the failure). */
function decode(pieces: Buffer[]): { body: string; used: number; done: boolean } | BodyFailure {
  const d = new ChunkedDecoder()
  let body = ''
  let used = 0
  for (const p of pieces) {
    const n = d.decode(p, 0, p.length, c => { body += c.toString('latin1') })
    if (n instanceof BodyFailure) return n
    used = n
    if (d.done) break
  }
  return { body, used, done: d.done }
}
const ok = (s: string): { body: string; used: number; done: boolean } => {
  const r = decode([b(s)])
  assert.ok(!(r instanceof BodyFailure), `refused ${JSON.stringify(s)}: ${r instanceof BodyFailure ? r.detail : ''}`)
  return r
}
const bad = (s: string): BodyFailure => {
  const r = decode([b(s)])
  assert.ok(r instanceof BodyFailure, `accepted ${JSON.stringify(s)}`)
  return r
}

const SAMPLE = '5;name=value;q="a \\" b"\r\nhello\r\n1A\r\nabcdefghijklmnopqrstuvwxyz\r\n000\r\nTrailer-A: x\r\nB:\r\n\r\n'

test('decodes chunks, extensions and trailers; stops right after the final CRLF', () => {
  const r = ok(SAMPLE + 'GET / HTTP/1.1\r\n')
  assert.deepEqual(r, { body: 'helloabcdefghijklmnopqrstuvwxyz', used: SAMPLE.length, done: true })
  assert.deepEqual(ok('0\r\n\r\n'), { body: '', used: 5, done: true })
})

test('data reaches the sink as subarrays of the input, without a copy', () => {
  const buf = b('PREFIX' + SAMPLE)
  const d = new ChunkedDecoder()
  const chunks: Buffer[] = []
  const n = d.decode(buf, 6, buf.length, c => chunks.push(c))
  assert.equal(n, SAMPLE.length)
  assert.equal(chunks.length, 2)
  for (const c of chunks) assert.equal(c.buffer, buf.buffer)
  assert.equal(chunks[0].byteOffset, buf.byteOffset + 6 + SAMPLE.indexOf('hello'))
})

test('every split point (one cut, and byte by byte) yields the same body and the same end', () => {
  const input = b(SAMPLE + 'NEXT')
  const whole = decode([input])
  for (let cut = 1; cut < input.length; cut++) {
    assert.deepEqual(decodeAt(input, [cut]), { body: (whole as { body: string }).body, end: SAMPLE.length }, `cut at ${cut}`)
  }
  assert.deepEqual(decodeAt(input, Array.from({ length: input.length - 1 }, (_, i) => i + 1)), { body: 'helloabcdefghijklmnopqrstuvwxyz', end: SAMPLE.length })
})

/** Decodes `input` cut at `cuts`, returns the body and the absolute offset where decoding ended. */
function decodeAt(input: Buffer, cuts: number[]): { body: string; end: number } | string {
  const d = new ChunkedDecoder()
  let body = ''
  let prev = 0
  for (const at of [...cuts, input.length]) {
    const piece = input.subarray(prev, at)
    const n = d.decode(piece, 0, piece.length, c => { body += c.toString('latin1') })
    if (n instanceof BodyFailure) return n.detail
    if (d.done) return { body, end: prev + n }
    assert.equal(n, piece.length, 'consumes everything until the end of the body')
    prev = at
  }
  return 'not done'
}

test('a refusal is found at any split point too', () => {
  const input = b('5\r\nhello\r\n3;a= b\r\nabc\r\n0\r\n\r\n')
  for (let cut = 1; cut < input.length; cut++) assert.equal(decodeAt(input, [cut]), 'invalid chunk extension', `cut at ${cut}`)
})

test('chunk sizes: hex, leading zeros; no sign, space, 0x, empty; bounded at 2^53 - 1', () => {
  assert.equal(ok('0000a\r\n0123456789\r\n0\r\n\r\n').body, '0123456789')
  for (const s of ['\r\n', ' 5\r\n', '5 \r\n', '-5\r\n', '+5\r\n', '0x5\r\n', 'g\r\n', '5\t\r\n', '\n']) assert.equal(bad(s).reason, 'bad_chunk', JSON.stringify(s))
  // 1fffffffffffff = 2^53 - 1 is a size (its data never comes here); one more digit is refused
  const d = new ChunkedDecoder()
  assert.equal(d.decode(b('1fffffffffffff\r\nabc'), 0, 19, () => {}), 19)
  assert.equal(bad('20000000000000\r\n').detail, 'chunk size too large')
  assert.equal(bad('ffffffffffffffffff\r\n').detail, 'chunk size too large')
})

test('chunk extensions as llhttp takes them: token names, token or quoted values (also empty); no whitespace', () => {
  for (const e of [';a', ';a=b', ';a=b;c;d=e', ';a=', ';a="b c"', ';a="b\\"c"', ';a="\xe9"', ';a="\t"']) assert.equal(ok(`1${e}\r\nx\r\n0\r\n\r\n`).body, 'x', e)
  assert.equal(bad('1 ;a\r\nx\r\n0\r\n\r\n').detail, 'invalid chunk size')
  for (const e of [';', '; a', ';a =b', ';a= b', ';a=b ', ';a=b c', ';a="b"c', ';a="b" ', ';a="\x01"', ';a="\x7f"', ';a="b', ';(=b']) {
    assert.equal(bad(`1${e}\r\nx\r\n0\r\n\r\n`).detail, 'invalid chunk extension', JSON.stringify(e))
  }
})

test('CRLF after the size line and after the data, nothing else', () => {
  for (const s of ['1\nx\r\n0\r\n\r\n', '1\rx\r\n0\r\n\r\n', '1\r\nx\n0\r\n\r\n', '1\r\nxy\r\n0\r\n\r\n', '1\r\nx\r\r\n', '0\r\n\n', '0\r\n\r\r']) {
    assert.equal(bad(s).reason, 'bad_chunk', JSON.stringify(s))
  }
})

test('trailers are validated like header fields, then dropped', () => {
  const t = '0\r\nA: 1\r\nB-c:\t2 \r\nD:\r\n\r\n'
  assert.deepEqual(ok(t + 'NEXT'), { body: '', used: t.length, done: true })
  for (const t of ['A : 1', ' A: 1', 'A', ': 1', 'A: 1\x00', 'A: 1\x7f', 'A: 1\r\n b', 'A(: 1', 'A: 1\n', 'A: 1\rx']) {
    assert.ok(bad(`0\r\n${t}\r\n\r\n`).reason.length > 0, JSON.stringify(t))
  }
  const d = new ChunkedDecoder(32)
  const r = d.decode(b(`0\r\nX: ${'a'.repeat(40)}\r\n\r\n`), 0, 50, () => {})
  assert.ok(r instanceof BodyFailure && r.reason === 'trailers_too_large')
})

test('after done: nothing more is consumed', () => {
  const d = new ChunkedDecoder()
  assert.equal(d.decode(b('0\r\n\r\n'), 0, 5, () => {}), 5)
  assert.equal(d.done, true)
  assert.equal(d.decode(b('5\r\nhello'), 0, 8, () => assert.fail('no data after done')), 0)
})
