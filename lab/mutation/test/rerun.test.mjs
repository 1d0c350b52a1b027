// When tests are only added to a file's list, the killed mutants keep their result and only the others run again.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { dropUnkilled, rerunScope } from '../lib/rerun.mjs'

test('rerunScope: same, added (earlier files unchanged), full (a file changed or dropped, or no record)', () => {
  const a = { 'dist/test/a.test.js': '1', 'dist/test/b.test.js': '2' }
  assert.equal(rerunScope(a, { ...a }), 'same')
  assert.equal(rerunScope(a, { 'dist/test/n.test.js': '9', ...a }), 'added')
  assert.equal(rerunScope(a, { ...a, 'dist/test/b.test.js': '3' }), 'full')
  assert.equal(rerunScope(a, { 'dist/test/a.test.js': '1' }), 'full')
  assert.equal(rerunScope(null, a), 'full')
})

test('dropUnkilled keeps killed and timed-out mutants, drops survivors and no-coverage ones', () => {
  const inc = { files: { 'x.ts': { mutants: [{ status: 'Killed' }, { status: 'Survived' }, { status: 'Timeout' }, { status: 'NoCoverage' }] } } }
  assert.equal(dropUnkilled(inc), 2)
  assert.deepEqual(inc.files['x.ts'].mutants.map(m => m.status), ['Killed', 'Timeout'])
})

test('dropUnkilled with timeouts drops timed-out mutants too (--recheck-timeouts), and keeps the killed', () => {
  const inc = { files: { 'x.ts': { mutants: [{ status: 'Killed' }, { status: 'Survived' }, { status: 'Timeout' }, { status: 'RuntimeError' }] } } }
  assert.equal(dropUnkilled(inc, { timeouts: true }), 2)
  assert.deepEqual(inc.files['x.ts'].mutants.map(m => m.status), ['Killed', 'RuntimeError'])
})
