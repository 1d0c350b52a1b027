// The gwp version (package.json), read once: the compiler stamps it into bundles, the runtime reports it.
import { readFileSync } from 'node:fs'

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }

export const GWP_VERSION: string = pkg.version
