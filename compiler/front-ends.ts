// Front ends for policy files other than .gwp, by extension. Each produces the same AST as the .gwp parser. The
// YAML front end (grammar/yaml/) reads route stages through the policies' mappings, passed in from the registry.
import { Diagnostics } from '../grammar/diagnostic.js'
import type { FileAst } from '../grammar/ast.js'
import { parseYamlPolicy } from '../grammar/yaml/policy.js'
import { REGISTRY } from './policies.js'
import type { FrontEnd } from './sources.js'

const YAML_STAGES = REGISTRY.yamlStages()
const KEYWORDS = REGISTRY.keywords
const YAML_DECLARATIONS = REGISTRY.yamlDeclarations()

/** A YAML policy file → the .gwp AST, with this gwc's policy kinds. */
export const parseYaml = (text: string, file: string, d: Diagnostics = new Diagnostics()): FileAst => parseYamlPolicy(text, file, d, YAML_STAGES, KEYWORDS, YAML_DECLARATIONS)

export const FRONT_ENDS: Record<string, FrontEnd> = {
  '.yaml': parseYaml,
  '.yml': parseYaml,
}
