// The `respond` terminal stage (and a proxy's `fallback respond …`): a reply built once at load, answered as is.
import type { RespondOptions } from '../config/bundle.js'
import type { StageOptionsBase, TerminalStage } from '../config/stage.js'
import { Reply } from './reply.js'

export function respondReply(o: Omit<RespondOptions, keyof StageOptionsBase>): Reply {
  const headers: string[] = []
  for (const h of o.headers) headers.push(h.name, h.value)
  return new Reply(o.status, Buffer.from(o.body), o.contentType, headers, null)
}

export function createRespondStage(o: RespondOptions): TerminalStage {
  const reply = respondReply(o)
  return () => reply
}
