// `gw demo`: placeholder until the demo lands (issue #3, point 8).
export async function demo(_args: string[]): Promise<void> {
  throw new Error('gw demo is not built yet')
}
