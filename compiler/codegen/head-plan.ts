// A route's `headers` statements as head plans (issue 13 item 2): per direction, each `headers` stage becomes the
// plan of the route's edits from the first stage of that direction up to it, the names to drop pre-lowered and
// the lines to add in order, so a request only hands the plan to its context (runtime/head-plan.ts renders it).
import type { HeadPlanOptions } from '../../config/bundle.js'
import { FIELD_VALUE, TOKEN } from '../../config/http.js'

/** One static edit: a set (value) or a remove (null); the name lower-case. */
export interface StaticEdit { name: string; value: string | null }

/**
 * Accumulates one route's edits in one direction. `add(ops)` takes a stage's edits and returns the plan of every
 * edit so far: the names any of them sets or removes, and the lines the sets add that no later edit undoes (the
 * result of applying them one after another, runtime/headers.ts applyEdits). Throws on a name or value the
 * checker would have refused (E0306): a compiler bug, never user input reaching the output.
 */
export class HeadPlanBuilder {
  private readonly all: StaticEdit[] = []

  add(ops: readonly StaticEdit[]): HeadPlanOptions {
    for (const op of ops) {
      if (!TOKEN.test(op.name) || op.name !== op.name.toLowerCase()) throw new Error(`codegen: bad header name ${JSON.stringify(op.name)}`)
      if (op.value !== null && !FIELD_VALUE.test(op.value)) throw new Error(`codegen: bad header value ${JSON.stringify(op.value)}`)
      this.all.push(op)
    }
    const drop: string[] = []
    for (const e of this.all) if (!drop.includes(e.name)) drop.push(e.name)
    let block = ''
    this.all.forEach((e, i) => {
      if (e.value !== null && !this.all.slice(i + 1).some(later => later.name === e.name)) block += `${e.name}: ${e.value}\r\n`
    })
    return { drop, block, edits: ops.flatMap(op => [op.name, op.value]) }
  }
}
