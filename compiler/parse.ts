// The .gwp front end as the compiler runs it: the grammar built from the registry's syntax declarations
// (compiler → grammar; grammar/ never sees policies/).
import type { FileAst } from '../grammar/ast.js'
import type { Diagnostics } from '../grammar/diagnostic.js'
import { REGISTRY } from './policies.js'

/** Parse one .gwp file with this gwc's policy kinds. Never throws on bad input (see Grammar.parseFile). */
export const parseFile = (text: string, file: string, d?: Diagnostics): { ast: FileAst; diagnostics: Diagnostics } => REGISTRY.grammar.parseFile(text, file, d)
