// AST spans → the smaller SourceSpan the IR and manifest carry.
import type { Span } from '../../grammar/ast.js'
import type { SourceSpan } from '../../config/ir.js'

export const spanOf = (s: Span): SourceSpan => ({ file: s.file, line: s.line, col: s.col })
