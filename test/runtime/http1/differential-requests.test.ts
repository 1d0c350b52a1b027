// test/runtime/http1/differential-requests.test.ts: gw's request codec against Node's own llhttp, in-process:
// the short form of the seeded fuzzer (the long one: docs/operations.md), llhttp's own test messages, and one
// pinned example of each deliberate stricter refusal (docs/operations.md, "HTTP/1.1 parser: deliberate
// stricter refusals"): llhttp accepts it, gw refuses it, and the comparator names its class.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { test } from 'node:test'
import { compareCase, show, STRICTER_CLASSES } from '../../../testkit/http1-fuzz/compare.js'
import { generateCase, type Case } from '../../../testkit/http1-fuzz/gen.js'
import { llhttpParse } from '../../../testkit/http1-fuzz/llhttp.js'
import { runCases } from '../../../testkit/http1-fuzz/run.js'
import { repoPath } from '../../helpers/paths.js'

const corpus = JSON.parse(readFileSync(repoPath('test', 'runtime', 'http1', 'corpus', 'llhttp-tests.json'), 'utf8')) as {
  entries: Array<{ source: string; type: 'request' | 'response'; input: string; llhttpError: boolean; requestMethod: string }>
}
export const caseOf = (type: 'request' | 'response', text: string, splits: number[] = [], requestMethod = 'GET', maxHeaderSize = 16384): Case =>
  ({ type, bytes: Buffer.from(text, 'latin1'), splits, requestMethod, maxHeaderSize, shape: 'pinned' })

test('seeded fuzz, short form: 5,000 generated and mutated requests, no disagreement with llhttp', () => {
  const t = runCases(20261207, 5000, 'request')
  assert.deepEqual(t.disagreements, [])
  assert.equal(t.cases, 5000)
  // The stream exercises both sides: plenty accepted, plenty refused.
  const accepted = [...t.byShape].filter(([k]) => k.endsWith('accepted')).reduce((a, [, n]) => a + n, 0)
  assert.ok(accepted > 1000 && accepted < 4000, `accepted ${accepted}`)
})

test('the generator is deterministic: case i depends only on (seed, i)', () => {
  assert.equal(show(generateCase(7, 123, 'request')), show(generateCase(7, 123, 'request')))
  assert.notEqual(show(generateCase(7, 123, 'request')), show(generateCase(8, 123, 'request')))
})

test("llhttp's own request examples, whole and split at every byte: no disagreement", () => {
  const entries = corpus.entries.filter(e => e.type === 'request')
  assert.ok(entries.length > 100)
  for (const e of entries) {
    const n = Buffer.byteLength(e.input, 'latin1')
    for (const splits of [[], Array.from({ length: Math.max(0, n - 1) }, (_, i) => i + 1)]) {
      const v = compareCase(caseOf('request', e.input, splits, e.requestMethod))
      assert.notEqual(v.kind, 'disagree', `${e.source}: ${v.why} ${JSON.stringify(e.input)}`)
    }
  }
})

/** One example per class: llhttp (strict, as node:http runs it) accepts, gw refuses. */
const PINNED: Array<[string, string, number?]> = [
  ['version', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n'],
  ['version', 'GET /a#fragHTTP/1.1\r\n\r\n'], // no version at all: llhttp reads HTTP/0.9
  ['content-length-range', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 9007199254740992\r\n\r\n'],
  ['empty-transfer-encoding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n'],
  ['empty-transfer-encoding', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\nContent-Length: 1\r\n\r\nx'],
  ['http10-transfer-encoding', 'POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['upgrade-framing', 'GET / HTTP/1.1\r\nHost: a\r\nConnection: upgrade\r\nUpgrade: websocket\r\nTransfer-Encoding: gzip\r\n\r\n'],
  ['upgrade-framing', 'CONNECT a:443 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n'],
  ['chunk-size-range', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n20000000000000\r\n'],
  ['chunk-extension-empty-name', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;=b\r\nx\r\n0\r\n\r\n'],
  ['not-http', 'OPTIONS /music RTSP/1.0\r\nHost: a\r\n\r\n'],
  // 142 bytes of head against a limit of 128; llhttp counts 118 of them (target, names, values)
  ['head-size', `GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(110)}\r\n\r\n`, 128],
]

test('each deliberate stricter refusal, pinned: llhttp accepts, gw refuses, the class is named', () => {
  for (const [cls, text, max] of PINNED) {
    const c = caseOf('request', text, [], 'GET', max ?? 16384)
    assert.equal(llhttpParse('request', [c.bytes], c.maxHeaderSize, { eof: false }).error, null, `llhttp refuses ${JSON.stringify(text)}`)
    const v = compareCase(c, false) // no EOF: some of these announce bodies that never come
    assert.notEqual(v.gw.error, null, `gw accepts ${JSON.stringify(text)}`)
    assert.equal(v.kind, `stricter:${cls}`, JSON.stringify(text))
  }
})

test('docs/operations.md lists every stricter class the comparator knows', () => {
  const doc = readFileSync(repoPath('docs', 'operations.md'), 'utf8')
  const at = doc.indexOf('## HTTP/1.1 parser: deliberate stricter refusals')
  assert.ok(at >= 0, 'section missing')
  const section = doc.slice(at, doc.indexOf('\n## ', at + 5) >>> 0)
  for (const cls of STRICTER_CLASSES) assert.ok(section.includes(`\`${cls}\``), `${cls} not in docs/operations.md`)
})
