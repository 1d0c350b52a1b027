// Decodes the chunked transfer coding (RFC 9112 §7.1) from bytes, incrementally: any split point is fine, data
// reaches the sink as subarrays of the input (no copy), framing is validated as strictly as llhttp without its
// lenient flags (chunk extensions included), and the trailer section is validated, then dropped.
import { CR, HEX_VALUE, HT, LF, SP, TOKEN_BYTE, VALUE_BYTE } from './fields.js'

export class BodyFailure {
  constructor(readonly reason: string, readonly detail: string) {}
}

const bad = (detail: string): BodyFailure => new BodyFailure('bad_chunk', detail)
export const B_SIZE = bad('invalid chunk size')
export const B_SIZE_OVERFLOW = bad('chunk size too large')
export const B_EXT = bad('invalid chunk extension')
export const B_CRLF = bad('CRLF expected')
export const B_TRAILER = bad('invalid trailer field')
export const B_TRAILER_SIZE = new BodyFailure('trailers_too_large', 'trailer section larger than the limit')

// States. The numbers only need to differ.
const S_SIZE_FIRST = 0 // first hex digit of a chunk size
const S_SIZE = 1 // more hex digits, ';' or CR
const S_EXT_NAME_FIRST = 2 // after ';'
const S_EXT_NAME = 3 // token chars, '=', ';' or CR
const S_EXT_VALUE_FIRST = 4 // after '=': token, '"', ';' or CR
const S_EXT_VALUE = 5 // token chars, ';' or CR
const S_EXT_QUOTED = 6 // inside a quoted-string
const S_EXT_QUOTED_ESC = 7 // after '\' in a quoted-string
const S_EXT_QUOTED_END = 8 // after the closing '"': ';' or CR
const S_SIZE_LF = 9 // the LF of the size line
const S_DATA = 10
const S_DATA_CR = 11
const S_DATA_LF = 12
const S_TRAILER_LINE = 13 // start of a trailer line (or the final CRLF)
const S_TRAILER_NAME = 14
const S_TRAILER_OWS = 15 // after ':'
const S_TRAILER_VALUE = 16
const S_TRAILER_LF = 17 // the LF after a trailer field's CR
const S_END_LF = 18 // the LF of the final empty line
const S_DONE = 19

/** qdtext and quoted-pair bytes of a quoted-string (RFC 9110 §5.6.4): HTAB, SP, VCHAR but '"' and '\', obs-text. */
const QDTEXT = new Uint8Array(256)
for (let c = 0; c < 256; c++) if (c === HT || c === SP || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || c >= 0x80) QDTEXT[c] = 1

/** 2^53 - 1 over 16: one more hex digit past this and the size is no longer an exact Number. */
const SIZE_GUARD = Math.floor(Number.MAX_SAFE_INTEGER / 16)

/**
 * Decodes chunked framing; data slices are handed to `sink` as subarrays of `buf` (no copy). Returns the
 * bytes consumed (it may stop early only at the end of the body) or a BodyFailure. `done` after the last
 * chunk and the trailer section (trailers validated, then dropped). One decoder per message.
 */
export class ChunkedDecoder {
  done = false
  private state = S_SIZE_FIRST
  private remaining = 0
  private trailerBytes = 0

  /** `maxTrailerBytes` bounds the trailer section (node counts trailers against its header limit too). */
  constructor(private readonly maxTrailerBytes = 16 * 1024) {}

  decode(buf: Buffer, start: number, end: number, sink: (chunk: Buffer) => void): number | BodyFailure { // HOT PATH
    if (this.done) return 0
    let state = this.state
    let p = start
    while (p < end) {
      if (state === S_DATA) {
        const n = Math.min(this.remaining, end - p)
        sink(buf.subarray(p, p + n))
        p += n
        this.remaining -= n
        if (this.remaining === 0) state = S_DATA_CR
        continue
      }
      const c = buf[p]
      switch (state) {
        case S_SIZE_FIRST: {
          const h = HEX_VALUE[c]
          if (h === 255) { this.state = state; return B_SIZE }
          this.remaining = h
          state = S_SIZE
          break
        }
        case S_SIZE: {
          const h = HEX_VALUE[c]
          if (h !== 255) {
            if (this.remaining > SIZE_GUARD) { this.state = state; return B_SIZE_OVERFLOW }
            this.remaining = this.remaining * 16 + h
          } else if (c === 0x3b /* ; */) state = S_EXT_NAME_FIRST
          else if (c === CR) state = S_SIZE_LF
          else { this.state = state; return B_SIZE }
          break
        }
        case S_EXT_NAME_FIRST:
          if (TOKEN_BYTE[c] !== 1) { this.state = state; return B_EXT }
          state = S_EXT_NAME
          break
        case S_EXT_NAME:
          if (TOKEN_BYTE[c] === 1) break
          if (c === 0x3d /* = */) state = S_EXT_VALUE_FIRST
          else if (c === 0x3b) state = S_EXT_NAME_FIRST
          else if (c === CR) state = S_SIZE_LF
          else { this.state = state; return B_EXT }
          break
        case S_EXT_VALUE_FIRST:
          // A quoted-string or a token (llhttp also takes an empty one).
          if (c === 0x22 /* " */) state = S_EXT_QUOTED
          else if (TOKEN_BYTE[c] === 1) state = S_EXT_VALUE
          else if (c === 0x3b) state = S_EXT_NAME_FIRST
          else if (c === CR) state = S_SIZE_LF
          else { this.state = state; return B_EXT }
          break
        case S_EXT_VALUE:
          if (TOKEN_BYTE[c] === 1) state = S_EXT_VALUE
          else if (c === 0x3b) state = S_EXT_NAME_FIRST
          else if (c === CR) state = S_SIZE_LF
          else { this.state = state; return B_EXT }
          break
        case S_EXT_QUOTED:
          if (c === 0x22) state = S_EXT_QUOTED_END
          else if (c === 0x5c /* \ */) state = S_EXT_QUOTED_ESC
          else if (QDTEXT[c] !== 1) { this.state = state; return B_EXT }
          break
        case S_EXT_QUOTED_ESC:
          if (VALUE_BYTE[c] !== 1) { this.state = state; return B_EXT }
          state = S_EXT_QUOTED
          break
        case S_EXT_QUOTED_END:
          if (c === 0x3b) state = S_EXT_NAME_FIRST
          else if (c === CR) state = S_SIZE_LF
          else { this.state = state; return B_EXT }
          break
        case S_SIZE_LF:
          if (c !== LF) { this.state = state; return B_CRLF }
          state = this.remaining === 0 ? S_TRAILER_LINE : S_DATA
          break
        case S_DATA_CR:
          if (c !== CR) { this.state = state; return B_CRLF }
          state = S_DATA_LF
          break
        case S_DATA_LF:
          if (c !== LF) { this.state = state; return B_CRLF }
          state = S_SIZE_FIRST
          break
        default: {
          // The trailer section: fields as in a head (token ':' OWS value CRLF, no obs-fold), then CRLF.
          if (++this.trailerBytes > this.maxTrailerBytes) { this.state = state; return B_TRAILER_SIZE }
          switch (state) {
            case S_TRAILER_LINE:
              if (c === CR) state = S_END_LF
              else if (TOKEN_BYTE[c] === 1) state = S_TRAILER_NAME
              else { this.state = state; return B_TRAILER }
              break
            case S_TRAILER_NAME:
              if (c === 0x3a /* : */) state = S_TRAILER_OWS
              else if (TOKEN_BYTE[c] !== 1) { this.state = state; return B_TRAILER }
              break
            case S_TRAILER_OWS:
            case S_TRAILER_VALUE:
              if (c === CR) state = S_TRAILER_LF
              else if (VALUE_BYTE[c] !== 1) { this.state = state; return B_TRAILER }
              break
            case S_TRAILER_LF:
              if (c !== LF) { this.state = state; return B_CRLF }
              state = S_TRAILER_LINE
              break
            case S_END_LF:
              if (c !== LF) { this.state = state; return B_CRLF }
              this.state = S_DONE
              this.done = true
              return p + 1 - start
            default: // S_DONE: nothing more belongs to this body
              this.state = state
              return p - start
          }
        }
      }
      p++
    }
    this.state = state
    return p - start
  }
}
