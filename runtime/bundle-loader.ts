// Loads a verified bundle's generated module. The module text is evaluated with `new Function` (never
// `import()`, whose module cache keeps every version alive forever), so when a reload drops the last
// reference to an old bundle's handlers, its code and closures are garbage-collected.
import type { BuildDeps, BundleManifest, RouteHandler } from '../config/bundle.js'
import { BundleError } from '../config/bundle.js'

export interface LoadedBundle {
  manifest: BundleManifest
  /** One handler per `manifest.ir.routes` entry, same order. */
  handlers: RouteHandler[]
}

/**
 * Evaluates a bundle's module with the given dependencies. Call only with a manifest and text that passed
 * verifyBundle. Throws BundleError when the module does not evaluate or returns the wrong shape.
 */
export function instantiateBundle(manifest: BundleManifest, moduleText: string, deps: BuildDeps): LoadedBundle {
  let build: (deps: BuildDeps) => unknown
  try {
    // sourceURL names the bundle in stack traces; the version is a hex hash, safe to embed.
    build = new Function('deps', `${moduleText}\n//# sourceURL=gwp-bundle-${manifest.version.replace(/[^0-9a-f]/g, '')}.js`) as typeof build
  } catch (e) { throw new BundleError(`bundle module does not compile: ${(e as Error).message}`) }
  let handlers: unknown
  try { handlers = build(deps) } catch (e) { throw new BundleError(`bundle module failed to build: ${(e as Error).message}`) }
  if (!Array.isArray(handlers) || handlers.length !== manifest.ir.routes.length || !handlers.every(h => typeof h === 'function')) {
    throw new BundleError(`bundle module returned ${Array.isArray(handlers) ? handlers.length : typeof handlers} handlers for ${manifest.ir.routes.length} routes`)
  }
  return { manifest, handlers: handlers as RouteHandler[] }
}
