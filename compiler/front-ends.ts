// Front ends for policy files other than .gwp, by extension. Each produces the same AST as the .gwp parser.
import type { FrontEnd } from './sources.js'

export const FRONT_ENDS: Record<string, FrontEnd> = {}
