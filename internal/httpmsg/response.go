package httpmsg

import (
	"bufio"
	"net/http"
)

// ReadResponse is http.ReadResponse on the final response in br: the
// interim heads before it (see Head.Interim) are read and dropped, as
// net/http's client drops them. It is for the callers that hand a recorded
// response on as an *http.Response (the wire transport's caller, a capture
// read back from the archive), so they skip the same heads as every other
// reader here.
func ReadResponse(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	for {
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return nil, err
		}
		if !interim(resp.StatusCode) {
			return resp, nil
		}
	}
}
