// lab/harness/results-io.ts: where a run's results go — lab/results/<date>-<name>.json and .md, and its SVG
// charts beside them as <date>-<name>-<chart>.svg — named so runs sort by time and never overwrite each other.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import type { TopLevelSpec } from 'vega-lite'
import { renderSvg } from './charts.js'
import { RESULTS_DIR } from './paths.js'

/** "2025-06-10T0123Z": UTC, so runs made in different time zones sort together. */
export function stamp(d: Date): string {
  const p = (n: number): string => String(n).padStart(2, '0')
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())}T${p(d.getUTCHours())}${p(d.getUTCMinutes())}Z`
}

/** The base name of a run's files: `<stamp>-<name>`, the name reduced to [a-z0-9-]. */
export function resultBase(d: Date, name: string): string {
  const clean = name.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '')
  return `${stamp(d)}-${clean || 'run'}`
}

export interface WrittenFiles { json: string; md: string; svgs: string[] }

/**
 * Writes a run: the JSON (everything), the markdown (tables; chart links are relative, so the .md renders on
 * GitHub next to its SVGs), and each chart. Chart specs that fail to render are reported in the markdown, not
 * fatal: the numbers matter more than the pictures.
 */
export async function writeResults(base: string, json: unknown, markdown: (charts: { name: string; file: string; error?: string }[]) => string,
  charts: { name: string; spec: TopLevelSpec }[], dir = RESULTS_DIR): Promise<WrittenFiles> {
  mkdirSync(dir, { recursive: true })
  const svgs: string[] = []
  const done: { name: string; file: string; error?: string }[] = []
  for (const c of charts) {
    const file = `${base}-${c.name}.svg`
    try {
      writeFileSync(join(dir, file), await renderSvg(c.spec))
      svgs.push(join(dir, file))
      done.push({ name: c.name, file })
    } catch (e) {
      done.push({ name: c.name, file, error: (e as Error).message })
    }
  }
  const jsonFile = join(dir, `${base}.json`)
  const mdFile = join(dir, `${base}.md`)
  writeFileSync(jsonFile, JSON.stringify(json, null, 1) + '\n')
  writeFileSync(mdFile, markdown(done))
  return { json: jsonFile, md: mdFile, svgs }
}

/** A path for messages: relative to the working directory when that is shorter. */
export function shortPath(p: string): string {
  const r = relative(process.cwd(), p)
  return r.length < p.length && !r.startsWith('..') ? r : p
}
