// What gw knows of WebSocket (RFC 6455) inside a tunnel: where frames begin, so a close frame can be put
// between two frames (never inside one), and the close frames gw sends itself when it shuts down: unmasked
// towards the client (a server's frame), masked towards the upstream (a client's frame, §5.3).
import { randomBytes } from 'node:crypto'

/** 1001 "going away" (RFC 6455 §7.4.1): the endpoint is going away, e.g. a server shutting down. */
export const GOING_AWAY = 1001
const REASON = Buffer.from('gateway shutting down')

/** A close frame with `code` and a short reason; `masked` for a frame a client sends. */
export function closeFrame(code: number, masked: boolean): Buffer {
  const payload = Buffer.alloc(2 + REASON.length)
  payload.writeUInt16BE(code, 0)
  REASON.copy(payload, 2)
  if (!masked) return Buffer.concat([Buffer.from([0x88, payload.length]), payload])
  const key = randomBytes(4)
  for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3]
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), key, payload])
}

/**
 * Follows the frame boundaries of one direction of a WebSocket byte stream without copying payloads: only
 * frame headers (2–14 bytes) are read. `atBoundary` is true between frames.
 */
export class FrameTracker {
  /** Payload bytes of the current frame still to come (after its header). */
  private remaining = 0
  /** Header bytes read so far of a frame whose header is split across chunks (at most 14). */
  private readonly hdr = Buffer.alloc(14)
  private hdrLen = 0

  get atBoundary(): boolean { return this.remaining === 0 && this.hdrLen === 0 }

  /**
   * Reads `chunk`. With `stopAtBoundary`, returns the offset of the first frame boundary at or after the
   * start of the chunk (0 when already between frames; chunk.length when none in it); otherwise -1.
   */
  feed(chunk: Buffer, stopAtBoundary = false): number {
    let i = 0
    const n = chunk.length
    while (i < n) {
      if (stopAtBoundary && this.atBoundary) return i
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, n - i)
        this.remaining -= take
        i += take
        continue
      }
      this.hdr[this.hdrLen++] = chunk[i++]
      const need = this.headerSize()
      if (need < 0 || this.hdrLen < need) continue
      this.remaining = this.payloadLength()
      this.hdrLen = 0
    }
    return stopAtBoundary ? n : -1
  }

  /** The full header size once its first two bytes are known, else -1. */
  private headerSize(): number {
    if (this.hdrLen < 2) return -1
    const len7 = this.hdr[1] & 0x7f
    return 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((this.hdr[1] & 0x80) !== 0 ? 4 : 0)
  }

  private payloadLength(): number {
    const len7 = this.hdr[1] & 0x7f
    if (len7 < 126) return len7
    if (len7 === 126) return this.hdr.readUInt16BE(2)
    // 2^53 is far beyond anything a socket will carry: a Number is exact here
    return this.hdr.readUInt32BE(2) * 0x1_0000_0000 + this.hdr.readUInt32BE(6)
  }
}
