// `gwc convert`: a YAML policy file → the equivalent .gwp text (YAML front end → AST → printer), comments
// included. Refuses (diagnostics, no text) when the YAML cannot be read; semantic problems are left to
// `gwc check`, on either file, which reports the same ones.
import { Diagnostics, type Diagnostic } from '../../grammar/index.js'
import { parseYaml as parseYamlPolicy } from '../front-ends.js'
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { summary } from '../diagnostics/render.js'
import { printVerified, renderDiagnostics, type CommandOutput, type DiagnosticFormat } from './fmt.js'

export interface ConvertResult {
  /** The .gwp text; undefined when the YAML had errors (see diagnostics). */
  gwp: string | undefined
  diagnostics: Diagnostic[]
}

/**
 * Converts one YAML policy text. `file` names it in diagnostics. Never throws on bad input; throws only
 * if the printed .gwp would not read back to the same AST (a bug, reported rather than printed).
 */
export function convertYaml(text: string, file: string): ConvertResult {
  const d = new Diagnostics()
  const ast = parseYamlPolicy(text, file, d)
  if (d.errorCount > 0) return { gwp: undefined, diagnostics: d.sorted() }
  // Blank lines are not kept: YAML line numbers say nothing about where .gwp needs them.
  return { gwp: printVerified(ast, { keepBlankLines: false }), diagnostics: d.sorted() }
}

/**
 * `gwc convert FILE.yaml [-o OUT.gwp]`: the .gwp on stdout (or in OUT). Exit 1 when the YAML has errors
 * (nothing printed or written), 2 for bad usage.
 */
export function runConvert(paths: string[], outPath: string | undefined, format: DiagnosticFormat = 'text'): CommandOutput {
  if (paths.length !== 1) return { code: 2, out: '', err: 'gwc: convert takes one YAML file\n' }
  const [path] = paths
  if (!/\.ya?ml$/.test(path)) return { code: 2, out: '', err: `gwc: convert reads YAML policies (.yaml, .yml); \`${path}\` is not one\n` }
  if (outPath !== undefined && resolve(outPath) === resolve(path)) return { code: 2, out: '', err: 'gwc: convert would overwrite its input; give -o a .gwp path\n' }
  let text: string
  try { text = readFileSync(path, 'utf8') } catch (e) { return { code: 1, out: '', err: `gwc: cannot read \`${path}\`: ${(e as Error).message}\n` } }
  const r = convertYaml(text, path)
  // Diagnostics never go to stdout here: stdout carries the .gwp text.
  const shown = renderDiagnostics(r.diagnostics, new Map([[path, text]]), format, false)
  if (r.gwp === undefined) return { code: 1, out: '', err: shown.err + (format === 'text' ? `${summary(r.diagnostics)}: nothing converted\n` : '') }
  if (outPath === undefined) return { code: 0, out: r.gwp, err: shown.err }
  writeFileSync(outPath, r.gwp)
  return { code: 0, out: '', err: shown.err + `converted ${path} → ${outPath}\n` }
}
