// Front ends for policy files other than .gwp, by extension. Each produces the same AST as the .gwp parser.
import { parseYamlPolicy } from '../config/yaml-policy.js'
import type { FrontEnd } from './sources.js'

export const FRONT_ENDS: Record<string, FrontEnd> = {
  '.yaml': parseYamlPolicy,
  '.yml': parseYamlPolicy,
}
