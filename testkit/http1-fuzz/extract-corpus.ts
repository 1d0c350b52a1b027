// Extracts the raw messages of llhttp's own tests (test/request/*.md, test/response/*.md of a local llhttp
// checkout) into test/runtime/http1/corpus/: only each example's input bytes and whether llhttp's expected
// log ends in an error; none of llhttp's code. Lenient-mode and pause examples are left out (gw's parser has
// no lenient modes). Re-run when llhttp's tests change:
//   node dist/testkit/http1-fuzz/extract-corpus.js /work/.mirror/nodejs+llhttp/repo
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { runInNewContext } from 'node:vm'

export interface CorpusEntry {
  /** file and heading in llhttp's repository. */
  source: string
  type: 'request' | 'response'
  /** The raw bytes as a latin1 string. */
  input: string
  /** llhttp's expected log ends in an error. */
  llhttpError: boolean
  /** For responses: the request method (llhttp's skipBody examples answer a HEAD). */
  requestMethod: string
}

/** The input conversion llhttp's test runner documents: CRLF line ends, \r \n \t \f \xHH \ooo escapes, ${js}. */
function decode(raw: string): string {
  let s = raw.replace(/\n$/, '').replace(/\\(\r\n|\r|\n)/g, '').replace(/\r\n|\r|\n/g, '\r\n')
  s = s.replace(/\\r/g, '\r').replace(/\\n/g, '\n').replace(/\\t/g, '\t').replace(/\\f/g, '\f')
  s = s.replace(/\\x([0-9a-fA-F]+)/g, (_a, h: string) => String.fromCharCode(parseInt(h, 16)))
  s = s.replace(/\\([0-7]{1,3})/g, (_a, d: string) => String.fromCharCode(parseInt(d, 8)))
  return s.replace(/\$\{(.+?)\}/g, (_a, code: string) => String(runInNewContext(code)))
}

export function extract(repo: string): { entries: CorpusEntry[]; commit: string } {
  const git = (...args: string[]): string => execFileSync('git', ['-C', repo, ...args], { encoding: 'latin1', maxBuffer: 64 << 20 })
  const commit = git('rev-parse', 'HEAD').trim()
  const files = git('ls-tree', '-r', '--name-only', 'HEAD', 'test/request', 'test/response').split('\n').filter(f => f.endsWith('.md'))
  const entries: CorpusEntry[] = []
  for (const file of files) {
    const text = git('show', `HEAD:${file}`)
    let heading = ''
    let meta: Record<string, unknown> | null = null
    const re = /^(#+ .*)$|<!-- meta=(\{.*?\}) -->|```http\n([\s\S]*?)```\s*```log\n([\s\S]*?)```/gm
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (m[1] !== undefined) { heading = m[1].replace(/^#+ /, ''); continue }
      if (m[2] !== undefined) { meta = JSON.parse(m[2]) as Record<string, unknown>; continue }
      const type = String(meta?.type ?? '')
      const strict = type === 'request' || type === 'response' || type === 'request-finish' || type === 'response-finish'
      if (meta === null || !strict || meta.pause !== undefined || (meta.skipBody === true && type.startsWith('request'))) { meta = null; continue }
      entries.push({
        source: `${file}#${heading}`,
        type: type.startsWith('request') ? 'request' : 'response',
        input: decode(m[3]),
        llhttpError: /error code=/.test(m[4]),
        requestMethod: meta.skipBody === true ? 'HEAD' : 'GET',
      })
      meta = null
    }
  }
  return { entries, commit }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const repo = process.argv[2] ?? '/work/.mirror/nodejs+llhttp/repo'
  const { entries, commit } = extract(repo)
  const out = join(import.meta.dirname, '..', '..', '..', 'test', 'runtime', 'http1', 'corpus', 'llhttp-tests.json')
  writeFileSync(out, JSON.stringify({ source: 'https://github.com/nodejs/llhttp', commit, license: 'MIT (see LICENSE-llhttp)', entries }, null, 1) + '\n')
  process.stdout.write(`${entries.length} examples from llhttp ${commit} -> ${out}\n`)
}
