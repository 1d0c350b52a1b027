// Paths tests use: the repository root, whether tests run from dist/ or not.
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'

/** The repository root (tests are compiled to dist/test/…, three levels below it). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const repoPath = (...parts: string[]): string => join(ROOT, ...parts)
