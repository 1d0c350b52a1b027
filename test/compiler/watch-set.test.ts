// compiler/watch-set: what `gw run … --watch` watches for a policy set: entries, includes (also ones that
// do not exist yet), and entry directories by suffix.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { compile } from '../../compiler/compile.js'
import { POLICY_EXTENSIONS } from '../../compiler/sources.js'
import { policyWatchSet } from '../../compiler/watch-set.js'

test('entry files, includes at any depth, include targets not yet written, and entry directories', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gw-watchset-'))
  try {
    mkdirSync(join(dir, 'parts'))
    mkdirSync(join(dir, 'more'))
    writeFileSync(join(dir, 'main.gwp'), 'include "parts/a.gwp"\ninclude "later.gwp"\n')
    writeFileSync(join(dir, 'parts', 'a.gwp'), 'include "../shared.gwp"\n')
    writeFileSync(join(dir, 'shared.gwp'), 'route r { match path "/r"; timeout 1s; respond 200 text "x" }\n')
    writeFileSync(join(dir, 'more', 'b.gwp'), '')
    const entries = [join(dir, 'main.gwp'), join(dir, 'more')]
    const r = compile(entries)
    assert.ok(r.errors > 0, 'later.gwp is missing: the compile fails, and the set still names it')
    const set = policyWatchSet(entries, r.sources)
    assert.deepEqual(new Set(set.files), new Set(['main.gwp', 'parts/a.gwp', 'later.gwp', 'shared.gwp', 'more/b.gwp'].map(f => join(dir, f))))
    assert.deepEqual(set.dirs, [{ path: join(dir, 'more'), suffixes: POLICY_EXTENSIONS }])
  } finally { rmSync(dir, { recursive: true, force: true }) }
})
