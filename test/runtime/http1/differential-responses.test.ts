// test/runtime/http1/differential-responses.test.ts: gw's response codec against Node's own llhttp (in-process,
// as node:http's client runs it) and against undici over a socket (what gw uses upstream today): the short
// fuzz, llhttp's own response examples, and pinned examples of each listed difference (docs/operations.md,
// "HTTP/1.1 parser: deliberate stricter refusals").
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { after, before, test } from 'node:test'
import { compareCase } from '../../../testkit/http1-fuzz/compare.js'
import { generateCase, type Case } from '../../../testkit/http1-fuzz/gen.js'
import { llhttpParse } from '../../../testkit/http1-fuzz/llhttp.js'
import { runCases } from '../../../testkit/http1-fuzz/run.js'
import { RawResponder, compareUndici } from '../../../testkit/http1-fuzz/undici.js'
import { repoPath } from '../../helpers/paths.js'

const corpus = JSON.parse(readFileSync(repoPath('test', 'runtime', 'http1', 'corpus', 'llhttp-tests.json'), 'utf8')) as {
  entries: Array<{ source: string; type: 'request' | 'response'; input: string; requestMethod: string }>
}
const caseOf = (text: string, requestMethod = 'GET', splits: number[] = [], maxHeaderSize = 16384): Case =>
  ({ type: 'response', bytes: Buffer.from(text, 'latin1'), splits, requestMethod, maxHeaderSize, shape: 'pinned' })

let responder: RawResponder
let port = 0
before(async () => { responder = new RawResponder(); port = await responder.listen() })
after(async () => { await responder.close() })

test('seeded fuzz, short form: 5,000 generated and mutated responses, no disagreement with llhttp', () => {
  const t = runCases(20261207, 5000, 'response')
  assert.deepEqual(t.disagreements, [])
})

test("llhttp's own response examples, whole and split at every byte: no disagreement", () => {
  const entries = corpus.entries.filter(e => e.type === 'response')
  assert.ok(entries.length > 50)
  for (const e of entries) {
    const n = Buffer.byteLength(e.input, 'latin1')
    for (const splits of [[], Array.from({ length: Math.max(0, n - 1) }, (_, i) => i + 1)]) {
      const v = compareCase(caseOf(e.input, e.requestMethod, splits))
      assert.notEqual(v.kind, 'disagree', `${e.source}: ${v.why} ${JSON.stringify(e.input)}`)
    }
  }
})

const PINNED: Array<[string, string, string?]> = [
  ['version', 'HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n'],
  ['not-http', 'RTSP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n'],
  ['status-range', 'HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n'],
  ['reason-phrase-ctl', 'HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n'],
  ['status-line-bare-cr', 'HTTP/1.1 200 OK\r\rX: 1\r\nContent-Length: 0\r\n\r\n'],
  ['switching-without-upgrade', 'HTTP/1.1 101 Switching Protocols\r\n\r\n'],
  ['no-content-length', 'HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n'],
  ['content-length-range', 'HTTP/1.1 200 OK\r\nContent-Length: 9007199254740992\r\n\r\n'],
  ['empty-transfer-encoding', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: \r\nContent-Length: 1\r\n\r\nx'],
  ['chunk-size-range', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n20000000000000\r\n'],
]

test('each deliberate stricter refusal of a response, pinned: llhttp accepts, gw refuses, the class is named', () => {
  for (const [cls, text] of PINNED) {
    const c = caseOf(text)
    assert.equal(llhttpParse('response', [c.bytes], c.maxHeaderSize).error, null, `llhttp refuses ${JSON.stringify(text)}`)
    const v = compareCase(c, false) // no EOF: some of these announce bodies that never come
    assert.notEqual(v.gw.error, null, `gw accepts ${JSON.stringify(text)}`)
    assert.equal(v.kind, `stricter:${cls}`, JSON.stringify(text))
  }
})

test('undici over a socket, 300 generated responses: every difference is a listed class', async () => {
  const tally = new Map<string, number>()
  const bad: string[] = []
  for (let i = 0; i < 300; i++) {
    const c = generateCase(20261207, i, 'response')
    const v = await compareUndici(port, responder, c)
    tally.set(v.kind, (tally.get(v.kind) ?? 0) + 1)
    if (v.kind === 'disagree') bad.push(`case ${i}: ${v.why} ${JSON.stringify(c.bytes.toString('latin1')).slice(0, 200)}`)
  }
  assert.deepEqual(bad, [])
  assert.ok((tally.get('agree') ?? 0) > 250, JSON.stringify([...tally]))
})

test('undici, pinned: what undici refuses and gw takes as RFC 9110 says (docs/operations.md lists both)', async () => {
  const unsolicited = await compareUndici(port, responder, caseOf('HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'))
  assert.equal(unsolicited.kind, 'undici:unsolicited-1xx')
  assert.deepEqual(unsolicited.gw, { status: 200, headers: { 'content-length': '2' }, body: 'ok' })
  const notModified = await compareUndici(port, responder, caseOf('HTTP/1.1 304 Not Modified\r\nContent-Length: 5\r\n\r\n'))
  assert.equal(notModified.kind, 'undici:304-content-length')
  // Early hints are fine for both
  assert.equal((await compareUndici(port, responder, caseOf('HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'))).kind, 'agree')
  // A read-until-close body, a chunked one with trailers, HEAD
  assert.equal((await compareUndici(port, responder, caseOf('HTTP/1.1 200 OK\r\n\r\nuntil close'))).kind, 'agree')
  assert.equal((await compareUndici(port, responder, caseOf('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\nT: 1\r\n\r\n'))).kind, 'agree')
  assert.equal((await compareUndici(port, responder, caseOf('HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n', 'HEAD'))).kind, 'agree')
})
