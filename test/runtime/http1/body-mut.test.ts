// test/runtime/http1/body-mut.test.ts: what the Stryker run of runtime/http1/body.ts (issue 14, area engine)
// found unpinned: each refusal's exact reason and detail (the text the fuzz comparator and a reader of a
// refusal see), the qdtext bytes of a quoted chunk extension, and a further extension after a token value.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { BodyFailure, ChunkedDecoder } from '../../../runtime/http1/body.js'

function decode(s: string): { body: string; done: boolean } | BodyFailure {
  const d = new ChunkedDecoder(64)
  let body = ''
  const buf = Buffer.from(s, 'latin1')
  const n = d.decode(buf, 0, buf.length, c => { body += c.toString('latin1') })
  return n instanceof BodyFailure ? n : { body, done: d.done }
}

test('each refusal names its reason and detail', () => {
  const cases: Array<[string, string, string]> = [
    ['x\r\n', 'bad_chunk', 'invalid chunk size'],
    ['1x\r\n', 'bad_chunk', 'invalid chunk size'],
    ['fffffffffffffff\r\n', 'bad_chunk', 'chunk size too large'],
    ['1;\r\n', 'bad_chunk', 'invalid chunk extension'],
    ['1\rx', 'bad_chunk', 'CRLF expected'],
    ['1\r\nax', 'bad_chunk', 'CRLF expected'],
    ['1\r\na\rx', 'bad_chunk', 'CRLF expected'],
    ['0\r\nA: b\rx', 'bad_chunk', 'CRLF expected'],
    ['0\r\n\rx', 'bad_chunk', 'CRLF expected'],
    ['0\r\n:\r\n', 'bad_chunk', 'invalid trailer field'],
    ['0\r\nA b\r\n', 'bad_chunk', 'invalid trailer field'],
    ['0\r\nA: \x01\r\n', 'bad_chunk', 'invalid trailer field'],
    ['0\r\nA: ' + 'v'.repeat(80) + '\r\n\r\n', 'trailers_too_large', 'trailer section larger than the limit'],
  ]
  for (const [input, reason, detail] of cases) {
    const r = decode(input)
    assert.ok(r instanceof BodyFailure, `accepted ${JSON.stringify(input)}`)
    assert.deepEqual({ reason: r.reason, detail: r.detail }, { reason, detail }, JSON.stringify(input))
  }
})

test('a quoted chunk extension takes every qdtext byte: HTAB, SP, !, #-[, ]-~ and obs-text', () => {
  const qdtext = '\t !#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~\x80\xff'
  for (const ch of qdtext) {
    assert.deepEqual(decode(`1;n="${ch}"\r\na\r\n0\r\n\r\n`), { body: 'a', done: true }, `qdtext ${ch.charCodeAt(0).toString(16)}`)
  }
  // '"' ends the string, '\' escapes: neither is qdtext; CTLs and DEL are refused
  for (const ch of ['\x00', '\x1f', '\x7f']) assert.ok(decode(`1;n="${ch}"\r\na\r\n0\r\n\r\n`) instanceof BodyFailure)
})

test('extensions follow each other after a token value, a quoted value or a bare name', () => {
  for (const ext of [';a=b;c', ';a=b;c=d', ';a="b";c=d', ';a;c=d', ';a=;c']) {
    assert.deepEqual(decode(`1${ext}\r\nz\r\n0\r\n\r\n`), { body: 'z', done: true }, ext)
  }
})
