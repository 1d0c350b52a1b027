// "Did you mean …?": the closest candidate by edit distance, when it is close enough to be a likely typo.

/** Damerau–Levenshtein (optimal string alignment) distance: a swap of two letters counts as one edit. */
export function editDistance(a: string, b: string): number {
  const m = a.length, n = b.length
  let prev2 = new Array<number>(n + 1).fill(0)
  let prev = Array.from({ length: n + 1 }, (_, j) => j)
  for (let i = 1; i <= m; i++) {
    const cur = new Array<number>(n + 1)
    cur[0] = i
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, prev2[j - 2] + 1)
      cur[j] = v
    }
    prev2 = prev
    prev = cur
  }
  return prev[n]
}

/**
 * The candidate nearest to `word`, or undefined when none is plausibly meant. Case and `-`/`_` differences
 * count as nothing, so `least-conn` suggests `least_conn`.
 */
export function closest(word: string, candidates: Iterable<string>): string | undefined {
  const norm = (s: string) => s.toLowerCase().replace(/-/g, '_')
  const w = norm(word)
  let best: string | undefined
  let bestD = Infinity
  for (const c of candidates) {
    if (c === word) continue
    const d = editDistance(w, norm(c))
    if (d < bestD) { bestD = d; best = c }
  }
  if (best === undefined) return undefined
  const limit = Math.max(1, Math.floor(Math.max(w.length, best.length) / 3))
  return bestD <= limit ? best : undefined
}
