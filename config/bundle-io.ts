// Reads a bundle directory from disk and verifies it (format, versions, hashes). Used by the runtime loader
// and by gwc commands that take a built bundle (`routes`, `diff`, `test`).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { BundleError, MANIFEST_FILE, MODULE_FILE, verifyBundle, type BundleManifest } from './bundle.js'

export interface BundleOnDisk { manifest: BundleManifest; moduleText: string; dir: string }

export function readBundle(dir: string): BundleOnDisk {
  let manifestText: string, moduleText: string
  try { manifestText = readFileSync(join(dir, MANIFEST_FILE), 'utf8') } catch (e) { throw new BundleError(`cannot read ${join(dir, MANIFEST_FILE)}: ${(e as Error).message}`) }
  const declared = (() => { try { return (JSON.parse(manifestText) as BundleManifest).module?.file ?? MODULE_FILE } catch { return MODULE_FILE } })()
  if (declared !== MODULE_FILE) throw new BundleError(`unexpected module file name ${JSON.stringify(declared)}`)
  try { moduleText = readFileSync(join(dir, MODULE_FILE), 'utf8') } catch (e) { throw new BundleError(`cannot read ${join(dir, MODULE_FILE)}: ${(e as Error).message}`) }
  return { manifest: verifyBundle(manifestText, moduleText), moduleText, dir }
}

/** True when `dir` holds a bundle manifest (as opposed to .gwp sources). */
export function isBundleDir(dir: string): boolean {
  try { readFileSync(join(dir, MANIFEST_FILE)); return true } catch { return false }
}
