// The transitive relative imports of a compiled module: used to check that a mapped test file reaches its source.
import { readFileSync, existsSync } from 'node:fs'
import { dirname, resolve } from 'node:path'

const SPEC = /(?:\bimport\s*(?:[^'"();]*?\bfrom\s*)?|\bexport\s*[^'";]*?\bfrom\s*|\bimport\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g

/** Relative specifiers imported by a module's text (static, re-exports and literal dynamic imports). */
export function relativeImports(text) {
  return [...text.matchAll(SPEC)].map(m => m[1])
}

/** Absolute paths of every module reachable from `entry` through relative imports. */
export function importClosure(entry) {
  const seen = new Set()
  const todo = [resolve(entry)]
  while (todo.length > 0) {
    const f = todo.pop()
    if (seen.has(f) || !existsSync(f)) continue
    seen.add(f)
    for (const s of relativeImports(readFileSync(f, 'utf8'))) todo.push(resolve(dirname(f), s))
  }
  return seen
}
