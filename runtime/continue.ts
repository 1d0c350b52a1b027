// The one sentinel a stage returns to let the pipeline go on (passed to generated code as deps.CONTINUE).
export const CONTINUE: unique symbol = Symbol.for('gwp.continue') as never
