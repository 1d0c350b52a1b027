// `gwc test`: loads a bundle (built, or compiled from sources in memory), reads the expectation file and
// runs it offline (runtime/offline.ts). Kept apart from bin/gwc.ts because it joins compiler and runtime.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { buildBundle } from '../compiler/bundle.js'
import { compile } from '../compiler/compile.js'
import { renderJson, renderText, summary } from '../compiler/diagnostics/render.js'
import { nodeHost } from '../compiler/sources.js'
import { readSpecText, type SpecResult } from '../compiler/tools/test-spec.js'
import { FRONT_ENDS } from '../compiler/front-ends.js'
import { verifyBundle, type BundleManifest } from '../config/bundle.js'
import { isBundleDir, readBundle } from '../config/bundle-io.js'
import { runSuite, type SuiteResult } from '../runtime/offline.js'

export interface CommandResult { code: number; out: string; err: string }

function loadBundle(paths: string[]): { manifest: BundleManifest; moduleText: string } | { err: string } {
  if (paths.length === 1 && isBundleDir(paths[0])) { const b = readBundle(paths[0]); return { manifest: b.manifest, moduleText: b.moduleText } }
  const r = compile(paths, { frontEnds: FRONT_ENDS })
  if (r.ir === undefined) return { err: renderText(r.diagnostics, new Map(r.sources.map(s => [s.display, s.text]))) + `${summary(r.diagnostics)}: nothing to test\n` }
  const b = buildBundle(r.ir, r.sources)
  return { manifest: verifyBundle(b.manifestText, b.moduleText), moduleText: b.moduleText }
}

/**
 * Reads and checks an expectation file (compiler/tools/test-spec.ts). Throws only when the file cannot be
 * read; problems in it come back as diagnostics, every one at once.
 */
export function readSpec(file: string): SpecResult & { display: string; text: string } {
  const text = readFileSync(file, 'utf8')
  const display = nodeHost().display(resolve(file))
  return { ...readSpecText(text, display), display, text }
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
  let spec: ReturnType<typeof readSpec>
  try { spec = readSpec(specFile) } catch (e) {
    const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message
    return { code: 2, out: '', err: `gwc: cannot read spec \`${specFile}\`: ${why}\n` }
  }
  // like `gwc check`: every problem in the spec file, then nothing is run (a misspelt key must not pass)
  const specErr = spec.diagnostics.length === 0 ? ''
    : renderText(spec.diagnostics, new Map([[spec.display, spec.text]])) + `${summary(spec.diagnostics)} in ${spec.display}: nothing tested\n`
  const b = loadBundle(paths)
  if ('err' in b) return { code: 1, out: '', err: specErr + b.err }
  if (spec.diagnostics.length > 0) return format === 'json' ? { code: 1, out: renderJson(spec.diagnostics), err: '' } : { code: 1, out: '', err: specErr }
  const r = runSuite(b.manifest, b.moduleText, spec.cases)
  const pct = Math.round(r.coverage * 100)
  const under = failUnder !== undefined && pct < failUnder
  const out = format === 'json' ? JSON.stringify(r, null, 2) + '\n' : renderSuite(r, b.manifest.ir.routes.map(x => x.name))
  const err = under ? `gwc: route coverage ${pct}% is under --fail-under ${failUnder}%\n` : ''
  return { code: r.failed > 0 || under ? 1 : 0, out, err }
}
