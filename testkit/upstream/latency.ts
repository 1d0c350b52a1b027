// Latency distributions for stub rules: the spec types, their validation, and samplers built once per rule.
// A sampler maps two uniforms to milliseconds, so it is pure and can be tested without sleeping.

/** `fixed` ms; `uniform` in [min, max); `lognormal` fitted to a median and a 99th percentile. */
export type LatencySpec =
  | { dist: 'fixed'; ms: number }
  | { dist: 'uniform'; min: number; max: number }
  | { dist: 'lognormal'; p50: number; p99: number }

/** Maps two independent uniforms in [0, 1) to a latency in ms (>= 0). */
export type LatencySampler = (u1: number, u2: number) => number

/** z such that P(Z <= z) = 0.99 for a standard normal: lognormal sigma = (ln p99 - ln p50) / Z99. */
export const Z99 = 2.3263

/** Accepts a number (fixed ms) or a spec object; throws an Error naming the bad field otherwise. */
export function parseLatency(v: unknown, where: string): LatencySpec {
  if (typeof v === 'number') return { dist: 'fixed', ms: nonNeg(v, `${where}`) }
  if (v === null || typeof v !== 'object') throw new Error(`${where}: expected a number of ms or {dist, ...}`)
  const o = v as Record<string, unknown>
  switch (o.dist) {
    case 'fixed': return { dist: 'fixed', ms: nonNeg(o.ms, `${where}.ms`) }
    case 'uniform': {
      const min = nonNeg(o.min, `${where}.min`), max = nonNeg(o.max, `${where}.max`)
      if (max < min) throw new Error(`${where}: max (${max}) is below min (${min})`)
      return { dist: 'uniform', min, max }
    }
    case 'lognormal': {
      const p50 = nonNeg(o.p50, `${where}.p50`), p99 = nonNeg(o.p99, `${where}.p99`)
      if (p50 <= 0) throw new Error(`${where}.p50: must be > 0 for a lognormal`)
      if (p99 < p50) throw new Error(`${where}: p99 (${p99}) is below p50 (${p50})`)
      return { dist: 'lognormal', p50, p99 }
    }
    default: throw new Error(`${where}.dist: expected fixed, uniform or lognormal, got ${JSON.stringify(o.dist)}`)
  }
}

/** Build the sampler once, at config time: the per-request work is a few float ops, no lookups. */
export function createLatencySampler(spec: LatencySpec): LatencySampler {
  switch (spec.dist) {
    case 'fixed': {
      const ms = spec.ms
      return () => ms
    }
    case 'uniform': {
      const min = spec.min, span = spec.max - spec.min
      return (u1) => min + span * u1
    }
    case 'lognormal': {
      const mu = Math.log(spec.p50)
      const sigma = (Math.log(spec.p99) - mu) / Z99
      // Box-Muller, cosine half only: one normal per request keeps the stream position independent of history.
      // 1 - u1 is in (0, 1], so the log is finite.
      return (u1, u2) => Math.exp(mu + sigma * Math.sqrt(-2 * Math.log(1 - u1)) * Math.cos(2 * Math.PI * u2))
    }
  }
}

function nonNeg(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${where}: expected a number >= 0, got ${JSON.stringify(v)}`)
  return v
}
