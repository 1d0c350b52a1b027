// map.json helpers shared by the runner plugin, the driver and the map check.

/** The source files of an area (repo-relative paths). */
export function areaFiles(map, area) {
  const a = map.areas[area]
  if (a === undefined) throw new Error(`mutation: unknown area \`${area}\` (one of ${Object.keys(map.areas).join(', ')})`)
  return Object.keys(a)
}

/** The dist test files (cwd-relative, as the tap runner spawns them) for a mutant's source file, or undefined. */
export function testFilesFor(map, fileName) {
  const norm = fileName.replaceAll('\\', '/')
  for (const area of Object.values(map.areas)) {
    for (const [src, tests] of Object.entries(area)) {
      if (norm === src || norm.endsWith('/' + src)) return tests.map(t => 'dist/test/' + t)
    }
  }
  return undefined
}
