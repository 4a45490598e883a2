// Package wire records HTTP exchanges exactly as they crossed the wire.
//
// Nothing at or above http.RoundTripper sees the bytes a server sent: net/http
// canonicalises and reorders headers, removes chunked framing and, unless told
// otherwise, decompresses. An archive needs the bytes themselves, so Transport
// sits one level lower. Data flows like this:
//
//	RoundTrip(req)
//	  -> http.Transport (HTTP/1.1 only, keep-alive, no transparent decompression)
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
// Connections are kept alive: one TCP (and TLS) handshake per host rather than
// per request is politer to the server, and a TLS handshake costs more than
// most pages. net/http never writes a request on a connection before the
// previous response was read to its end, and tells each request which
// connection it got (the GotConn trace hook) before writing it: from there
// on, the connection records into that request's exchange (recorder.use), so
// two exchanges' bytes are never mixed. A request retried on a fresh
// connection (a kept-alive one turned out closed) starts its record over.
// Bytes that answer no request (after a message's end, or on an idle
// connection) would be read by net/http as the next response, so a
// connection that received any takes no more requests: the next request
// waits until the previous exchange knows where its message ended
// (recorder.handOver), and goes out on a fresh connection if there were.
//
// Spools stay in memory up to a few hundred KB and then move to a temp file, so
// large bodies never sit in memory. An Exchange holds its spools until it is
// closed and the caller has closed the response body.
package wire
