// `gwc test`: loads a bundle (built, or compiled from sources in memory), reads the expectation file and
// runs it offline (runtime/offline.ts). Kept apart from bin/gwc.ts because it joins compiler and runtime.
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { buildBundle } from '../compiler/bundle.js'
import { compile } from '../compiler/compile.js'
import { renderText, summary } from '../compiler/diagnostics/render.js'
import { FRONT_ENDS } from '../compiler/front-ends.js'
import { verifyBundle, type BundleManifest } from '../config/bundle.js'
import { isBundleDir, readBundle } from '../config/bundle-io.js'
import { runSuite, type SuiteResult, type TestCase } from '../runtime/offline.js'

export interface CommandResult { code: number; out: string; err: string }

function loadBundle(paths: string[]): { manifest: BundleManifest; moduleText: string } | { err: string } {
  if (paths.length === 1 && isBundleDir(paths[0])) { const b = readBundle(paths[0]); return { manifest: b.manifest, moduleText: b.moduleText } }
  const r = compile(paths, { frontEnds: FRONT_ENDS })
  if (r.ir === undefined) return { err: renderText(r.diagnostics, new Map(r.sources.map(s => [s.display, s.text]))) + `${summary(r.diagnostics)}: nothing to test\n` }
  const b = buildBundle(r.ir, r.sources)
  return { manifest: verifyBundle(b.manifestText, b.moduleText), moduleText: b.moduleText }
}

/** Reads `cases:` (or a bare list) from a YAML/JSON expectation file; throws with a readable message. */
export function readSpec(file: string): TestCase[] {
  const doc = parseYaml(readFileSync(file, 'utf8')) as unknown
  const list = Array.isArray(doc) ? doc : (doc as { cases?: unknown } | null)?.cases
  if (!Array.isArray(list)) throw new Error(`${file}: expected a list of cases (or \`cases:\`)`)
  list.forEach((c, i) => {
    const where = `${file}: case ${i + 1}`
    if (c === null || typeof c !== 'object') throw new Error(`${where}: not a mapping`)
    if (typeof (c as TestCase).request !== 'string' || !/^\S+\s+\S+$/.test((c as TestCase).request.trim())) throw new Error(`${where}: \`request\` must be "METHOD URL-or-path"`)
    if ((c as TestCase).expect === null || typeof (c as TestCase).expect !== 'object') throw new Error(`${where}: \`expect\` is missing`)
  })
  return list as TestCase[]
}

function renderSuite(r: SuiteResult, routeNames: string[]): string {
  const out: string[] = []
  for (const c of r.cases) {
    out.push(`${c.ok ? 'PASS' : 'FAIL'}  ${c.name}`)
    for (const f of c.failures) out.push(`      ${f}`)
  }
  const missing = routeNames.filter(n => !r.routesCovered.includes(n))
  out.push('', `${r.passed} passed, ${r.failed} failed; routes covered ${r.routesCovered.length}/${r.routesTotal} (${Math.round(r.coverage * 100)}%)` +
    (missing.length > 0 ? `; not exercised: ${missing.join(', ')}` : ''))
  return out.join('\n') + '\n'
}

export function runTest(paths: string[], specFile: string, failUnder: number | undefined, format: 'text' | 'json'): CommandResult {
  const b = loadBundle(paths)
  if ('err' in b) return { code: 1, out: '', err: b.err }
  let cases: TestCase[]
  try { cases = readSpec(specFile) } catch (e) { return { code: 2, out: '', err: `gwc: ${(e as Error).message}\n` } }
  const r = runSuite(b.manifest, b.moduleText, cases)
  const pct = Math.round(r.coverage * 100)
  const under = failUnder !== undefined && pct < failUnder
  const out = format === 'json' ? JSON.stringify(r, null, 2) + '\n' : renderSuite(r, b.manifest.ir.routes.map(x => x.name))
  const err = under ? `gwc: route coverage ${pct}% is under --fail-under ${failUnder}%\n` : ''
  return { code: r.failed > 0 || under ? 1 : 0, out, err }
}
