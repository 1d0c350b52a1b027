// The stage IR of the policies this gwc has, as one union tests can narrow by kind (config/ir.ts StageIR is open).
import type { StageIR } from '../../config/ir.js'
import type { AuthStageIR } from '../../policies/auth/check.js'
import type { HeadersStageIR } from '../../policies/headers/check.js'
import type { RateLimitStageIR } from '../../policies/ratelimit/check.js'

export type KnownStage = AuthStageIR | RateLimitStageIR | HeadersStageIR

/** A route's stages, typed as the known policies' IR. */
export const known = (stages: readonly StageIR[]): KnownStage[] => stages as KnownStage[]
