// The mutation map stays true as the tree changes: every source file of an area is mapped, and every mapped
// test imports the file it is mapped to (run after `npm run build`, which npm test does first).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

test('the mutation map covers every area file and each mapped test imports its file', () => {
  const run = spawnSync(process.execPath, [fileURLToPath(new URL('../run.mjs', import.meta.url)), '--check-map'], { encoding: 'utf8' })
  assert.equal(run.status, 0, run.stdout + run.stderr)
})
