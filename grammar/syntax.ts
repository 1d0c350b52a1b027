// Syntax declarations: how a policy kind's statement reads, as data (policies/<kind>/compile.ts declares it, the
// compiler hands the list to the grammar). grammar/parser.ts turns each declaration into Chevrotain rules when the
// parser is built, and build-ast.ts reads the CST back into the declaration's fields, which the policy's `build`
// turns into its AST statement. The pieces are the language's own: keywords, names, strings, quantities, the
// `name value*` option list, a choice of keyword-led branches, optional parts and lists.
import type * as A from './ast.js'

export type Piece =
  /** A keyword: consumed, yields nothing (it is also a name elsewhere, as every keyword is). */
  | { t: 'keyword'; word: string }
  /** A bare name (`idp`): a WordV. */
  | { t: 'word'; field: string }
  /** A bare name that is not a keyword of the language (`RS256`): a WordV. */
  | { t: 'identifier'; field: string }
  /** A header or claim name, bare or quoted: a NameV. */
  | { t: 'name'; field: string }
  /** A string: a StrV. */
  | { t: 'string'; field: string }
  /** A number with its unit as written (`100`, `1s`): a QtyV, typed by the checker. */
  | { t: 'quantity'; field: string }
  /** `name value*` options in any order (`burst 10 redis`): OptionAst[], read against a schema by the checker. */
  | { t: 'options'; field: string }
  /** One of several branches, each led by a keyword: `{ word, span, …the branch's fields }`. */
  | { t: 'choice'; field: string; alts: { word: string; then: Piece[] }[] }
  /** A piece that may be left out: its field is null then. */
  | { t: 'optional'; piece: Piece }
  /**
   * One or more items separated by `,`, each read by its own rule: an array of their fields. `wrap`: an item may
   * start on the next line (`forward claim a as A,⏎ claim b as B`).
   */
  | { t: 'list'; field: string; item: Piece[]; wrap?: boolean }
  /** One or more of a piece: an array of its values. `commas`: each may be followed by a `,` (`RS256, ES256`). */
  | { t: 'repeat'; field: string; piece: Piece; commas?: boolean }

/** The values a declaration's pieces read: by field name. */
export type Fields = Record<string, unknown>
/** What a `choice` reads: the keyword that led the branch, where, and the branch's own fields. */
export interface Choice extends Fields { word: string; span: A.Span }

/**
 * A policy kind's statement syntax. The statement starts with `keyword` (the kind's name); `pieces` follow;
 * `build` makes the AST statement from what they read (`span` is the leading keyword's). A statement whose
 * required pieces are missing (parser recovery after a syntax error, already reported) is dropped.
 */
export interface StatementSyntax {
  keyword: string
  pieces: Piece[]
  build(f: Fields, span: A.Span): { kind: string; span: A.Span }
  /** What to tell an author who wrote characters the language has no token for in this statement (E0001). */
  lexHints?: LexHint[]
}

/**
 * A fix for characters no token starts with (`->` in `claim sub -> X-User`, `/` in `50/s`), given the characters
 * (`bad`), the line before them and the text after them: the hint that names the fix, or undefined when the
 * characters are not this statement's mistake. A hint that names the fix also silences the parse error on the
 * token right after the characters, which only follows from them.
 */
export type LexHint = (bad: string, before: string, after: string) => string | undefined

/** Every lexer hint of a set of syntax declarations (statements first, then the declarations' statements). */
export const lexHintsOf = (syntaxes: readonly StatementSyntax[], declarations: readonly DeclarationSyntax[]): LexHint[] =>
  [...syntaxes, ...declarations.flatMap(d => d.statements)].flatMap(s => s.lexHints ?? [])

/**
 * A top-level declaration a policy kind adds to the language: `KEYWORD NAME { statements }` (`jwt idp { … }`),
 * each statement a StatementSyntax read as a policy stage is (its own keyword, then its pieces). The parser
 * makes the rules `<keyword>Decl` (the block) and `<keyword>Stmt` (one statement of it); the AST holds an
 * `A.Declaration` whose body holds what each statement's `build` made.
 */
export interface DeclarationSyntax {
  keyword: string
  /** What one is called in messages: `jwt provider` (`jwt provider \`idp\` is declared twice`). */
  what: string
  statements: StatementSyntax[]
}

// The constructors policies write declarations with.
export const keyword = (word: string): Piece => ({ t: 'keyword', word })
export const word = (field: string): Piece => ({ t: 'word', field })
export const identifier = (field: string): Piece => ({ t: 'identifier', field })
export const name = (field: string): Piece => ({ t: 'name', field })
export const string = (field: string): Piece => ({ t: 'string', field })
export const quantity = (field: string): Piece => ({ t: 'quantity', field })
export const options = (field: string): Piece => ({ t: 'options', field })
export const choice = (field: string, alts: Record<string, Piece[]>): Piece => ({ t: 'choice', field, alts: Object.entries(alts).map(([w, then]) => ({ word: w, then })) })
export const optional = (piece: Piece): Piece => ({ t: 'optional', piece })
export const list = (field: string, item: Piece[], o: { wrap?: boolean } = {}): Piece => ({ t: 'list', field, item, ...(o.wrap ? { wrap: true } : {}) })
export const repeat = (field: string, piece: Piece, o: { commas?: boolean } = {}): Piece => ({ t: 'repeat', field, piece, ...(o.commas ? { commas: true } : {}) })

/** Every keyword a declaration uses (its leading one first), for the lexicon. */
export function keywordsOf(s: StatementSyntax): string[] {
  const out = [s.keyword]
  const walk = (ps: Piece[]): void => {
    for (const p of ps) {
      if (p.t === 'keyword') out.push(p.word)
      else if (p.t === 'choice') for (const a of p.alts) { out.push(a.word); walk(a.then) }
      else if (p.t === 'optional') walk([p.piece])
      else if (p.t === 'list') walk(p.item)
      else if (p.t === 'repeat') walk([p.piece])
    }
  }
  walk(s.pieces)
  return [...new Set(out)]
}

/** Every keyword a declaration uses (its leading one first, then its statements'). */
export function declarationKeywordsOf(d: DeclarationSyntax): string[] {
  return [...new Set([d.keyword, ...d.statements.flatMap(keywordsOf)])]
}

/** The rule name of a declaration's block (`jwtDecl`) and of one statement in it (`jwtStmt`). */
export const declRule = (keyword: string): string => `${camel(keyword)}Decl`
export const declStmtRule = (keyword: string): string => `${camel(keyword)}Stmt`
const camel = (w: string): string => w.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())
