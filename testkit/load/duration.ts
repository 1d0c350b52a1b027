// testkit/load/duration.ts: "10s" / "500ms" / "2m" / "1500" (ms) → milliseconds, for the CLIs of bench/.

/** Parses a duration; a bare number is milliseconds. Throws on anything else. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$/.exec(text)
  if (m === null) throw new Error(`bad duration ${JSON.stringify(text)} (use e.g. 500ms, 10s, 2m)`)
  const n = Number(m[1])
  const unit = m[2] ?? 'ms'
  return Math.round(unit === 'ms' ? n : unit === 's' ? n * 1000 : n * 60_000)
}
