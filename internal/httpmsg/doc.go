// Package httpmsg reads HTTP/1.x responses as they crossed the wire: the
// head (status line and header block, interim 1xx heads included) and the
// body framing (Content-Length, chunked, or everything to the end of the
// bytes), with the chunked transfer coding removed from the payload.
//
// One reading serves every package that looks at a recorded response, so
// they cannot disagree about where a message ends or what its payload is:
// wire cuts a record where the message ends, warc digests the payload, the
// index takes the status, type and redirect target from the head.
//
// The rules are net/http's, because net/http is the client whose reading of
// a body the crawler gets; net/http's internal/chunked.go is the model for
// the chunked coding (one framing for every reader):
//
//   - A status line is "HTTP/X.Y SSS[ reason]": a one-digit major and minor
//     version and a three-digit code. Header lines end in LF or CRLF; a line
//     without a colon is skipped, as browsers do.
//   - Interim 1xx heads (100 Continue, 103 Early Hints) precede the final
//     one; 101 Switching Protocols is final and has no HTTP body.
//   - A HEAD request, a 1xx, 204 or 304 response has no body. Otherwise
//     Transfer-Encoding decides, from HTTP/1.1 on only (RFC 9112 §6.1: an
//     HTTP/1.0 message's Transfer-Encoding is ignored, and its raw bytes are
//     the body, as net/http and browsers read them); then Content-Length;
//     then the body runs to the end of the bytes. Where net/http refuses a
//     message outright (Content-Length values that disagree, a transfer
//     coding other than chunked), the body also runs to the end of the
//     bytes, as a client reads to the close.
//   - Chunk-size and chunk lines end in CRLF (a bare LF is malformed, RFC
//     9112 erratum 7633), a size is at most 16 hex digits with optional
//     extensions and trailing whitespace, chunk data is followed by CRLF,
//     and the trailer section ends with an empty line.
//
// A body can break two ways, and Message.Err tells which: the bytes end
// before the framing does (io.ErrUnexpectedEOF: a disconnect or a cut
// record; the payload is what arrived), or the chunked coding is malformed
// (ErrMalformedChunk: no reader agrees on the payload after that point).
package httpmsg
