// Origin matching, shared by the compile half (which checks the configured origins) and the stage (which matches a
// request's Origin): the one definition of what a wildcard origin `https://*.example.com` covers.

/** The part of a wildcard origin before and after its `*`: `https://` and `.example.com` (with `:port` if given). */
export interface Wildcard { prefix: string; suffix: string }

export function splitWildcard(w: string): Wildcard {
  const i = w.indexOf('*')
  return { prefix: w.slice(0, i), suffix: w.slice(i + 1) }
}

/**
 * Whether `origin` is `prefix` + one or more DNS labels + `suffix` (the suffix starts with the `.` before the
 * named domain, so `https://evilexample.com` and `https://example.com.evil.test` never match `*.example.com`).
 * The labels are lower-case letters, digits and `-`, none empty: anything else (`:`, `/`, `,` of a joined
 * duplicate header, `@`, upper case) is not a serialised origin a browser sends. HOT PATH: no allocation.
 */
export function matchesWildcard(origin: string, w: Wildcard): boolean {
  const end = origin.length - w.suffix.length
  if (end <= w.prefix.length || !origin.startsWith(w.prefix) || !origin.endsWith(w.suffix)) return false
  let prev = 46 // '.': the first label may not be empty
  for (let i = w.prefix.length; i < end; i++) {
    const c = origin.charCodeAt(i)
    if (c === 46) { if (prev === 46) return false }
    else if (!((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45)) return false
    prev = c
  }
  return prev !== 46
}
