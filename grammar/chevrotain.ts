// Chevrotain's values, loaded from the single-file ES module the package ships (lib/chevrotain.mjs) instead of
// its default entry (lib/src/api.js). Same version, same code: the package builds both from one source and
// publishes both ("files" in its package.json); only the entry differs. Why: the default entry imports lodash-es
// file by file, 640 modules, which made loading the grammar cost about 1.1 s of every `gwc` run and of every test
// process that compiles a policy, against about 40 ms for the one file (measured side by side, `node -e` import
// of each). Types still come from the package's own declarations. The grammar imports Chevrotain only through
// this module, so one copy is ever loaded (its token and parser classes are compared by identity).
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type * as Chevrotain from 'chevrotain'

const entry = createRequire(import.meta.url).resolve('chevrotain') // …/chevrotain/lib/src/api.js
const chevrotain = await import(pathToFileURL(join(dirname(entry), '..', 'chevrotain.mjs')).href) as typeof Chevrotain

export const { createToken, EOF, EMPTY_ALT, tokenLabel, tokenMatcher } = chevrotain
// The classes keep their instance types under the same names, as the package's own exports do.
export const Lexer: typeof Chevrotain.Lexer = chevrotain.Lexer
export type Lexer = Chevrotain.Lexer
export const CstParser: typeof Chevrotain.CstParser = chevrotain.CstParser
export type CstParser = Chevrotain.CstParser
