// lab/link.mjs: after `tsc`, makes the lab's own npm packages (fastify, @fastify/http-proxy, vega, vega-lite)
// resolvable from the compiled lab code in dist/lab/. Node looks for a package in node_modules folders above the
// importing file, and dist/lab/ is not under lab/, so dist/lab/node_modules gets one symlink per package named
// in LAB_PACKAGES. Only those: everything else (undici, jose, ...) resolves from the root's node_modules, so
// the floor and the load generator use the same undici as gw.
import { mkdirSync, rmSync, symlinkSync, existsSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const LAB = dirname(fileURLToPath(import.meta.url))
const LAB_PACKAGES = ['fastify', '@fastify/http-proxy', 'vega', 'vega-lite']
const target = join(LAB, '..', 'dist', 'lab', 'node_modules')

rmSync(target, { recursive: true, force: true })
for (const name of LAB_PACKAGES) {
  const real = join(LAB, 'node_modules', name)
  if (!existsSync(real)) { process.stderr.write(`lab: ${name} is not installed: run \`npm --prefix lab ci\`\n`); process.exit(1) }
  const link = join(target, name)
  mkdirSync(dirname(link), { recursive: true })
  symlinkSync(relative(dirname(link), real), link, 'dir')
}
