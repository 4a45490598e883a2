// Package wire records HTTP exchanges exactly as they crossed the wire.
//
// Nothing at or above http.RoundTripper sees the bytes a server sent: net/http
// canonicalises and reorders headers, removes chunked framing and, unless told
// otherwise, decompresses. An archive needs the bytes themselves, so Transport
// sits one level lower. Data flows like this:
//
//	RoundTrip(req)
//	  -> http.Transport (HTTP/1.1 only, no keep-alive, no transparent decompression)
//	  -> dial: ConnectTo override, else Resolve, each address in order (Control
//	     vets each address before it is dialled); TLS handshake
//	  -> recording net.Conn: every byte written is teed into the request spool,
//	     every byte read into the response spool (plaintext, after TLS)
//	  <- response head parsed by net/http
//	  RoundTrip itself reads the body to its end (or to MaxBody, the deadline, or
//	  the peer hanging up), so the record is complete whatever the caller reads
//	  -> the response spool is cut at the message end the HTTP framing gives
//	     (or at the MaxBody point), so the record never holds bytes after the message
//	  -> Options.OnExchange(*Exchange)
//	  <- the caller gets a normal *http.Response whose body is served from the spool
//	     (chunking removed by net/http, content coding kept).
//
// Keep-alive is off on purpose: one connection per exchange keeps dial and record
// 1:1, so the bytes of two requests can never be attributed to the wrong one. The
// cost is one TCP (and TLS) handshake per request, which is nothing next to a
// polite crawl delay of a second per host.
//
// Spools stay in memory up to a few hundred KB and then move to a temp file, so
// large bodies never sit in memory. An Exchange holds its spools until it is
// closed and the caller has closed the response body.
package wire
