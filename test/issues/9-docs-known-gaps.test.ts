// Issue 9: the "known gaps" section said "None known" while bare-CR line ends are one. It now describes the
// gap; this test holds the description to the behaviour (fix the gap, and this test says to update the docs).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { compile } from '../../compiler/compile.js'
import { memoryHost } from '../../compiler/sources.js'
import { FRONT_ENDS } from '../../compiler/front-ends.js'
import { repoPath } from '../helpers/paths.js'

const LINES = ['upstream api { replicas 127.0.0.1:1 }', 'route r {', '  match path "/a"', '  timeout 1s', '  proxy api', '}', '']
const check = (name: string, text: string) => compile([name], { host: memoryHost({ [name]: text }), frontEnds: FRONT_ENDS })

test('CRLF files read like LF files; bare-CR files read as one line, as docs/language.md says', () => {
  assert.deepEqual(check('p.gwp', LINES.join('\r\n')).diagnostics, [])
  const cr = check('p.gwp', LINES.join('\r'))
  assert.ok(cr.errors > 0)
  assert.ok(cr.diagnostics.every(d => d.line === 1), 'every position on line 1')
  assert.match(cr.diagnostics[0].message, /^expected end of line after/)
  const yaml = ['upstreams:', '  api:', '    replicas: ["127.0.0.1:1"]', 'routes:', '  - match: { path: /a }', '    timeout: 1s', '    upstream: api', '']
  assert.deepEqual(check('p.yaml', yaml.join('\r\n')).diagnostics, [])
  assert.ok(check('p.yaml', yaml.join('\r')).diagnostics.some(d => d.code === 'E0002' && d.line === 1))
  const gaps = readFileSync(repoPath('docs/language.md'), 'utf8').split('## Known gaps')[1]
  assert.doesNotMatch(gaps, /^\s*None known/)
  assert.match(gaps, /bare `\\r`/)
})

test('the README says what the shop example is, not only whose example it was', () => {
  const readme = readFileSync(repoPath('README.md'), 'utf8')
  assert.doesNotMatch(readme, /the shop \(the brief's example\)/)
  assert.match(readme, /`shop\.gwp`, a small shop's gateway/)
})
