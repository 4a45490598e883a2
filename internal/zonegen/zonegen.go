// Package zonegen writes large synthetic zones for measuring discovery: a
// TLD-like zone of N delegations, each with an in-bailiwick nameserver and
// its glue (every fourth also with IPv6 glue and a DS record) plus a shared
// out-of-bailiwick nameserver, as national zones look. The addresses are
// documentation and private ranges: nothing is ever contacted.
package zonegen

import (
	"fmt"
	"io"
	"strings"
)

// Write writes the zone apex zone with n delegations as a master file.
func Write(w io.Writer, zone string, n int) error {
	zone = strings.TrimSuffix(zone, ".") + "."
	fmt.Fprintf(w, "$ORIGIN %s\n$TTL 86400\n@ SOA ns1 hostmaster 2026112301 10800 3600 604800 3600\n@ NS ns1\n@ NS ns2\nns1 A 192.0.2.1\nns2 A 192.0.2.2\nwww A 192.0.2.80\n", zone)
	for i := range n {
		fmt.Fprintf(w, "d%d NS ns1.d%d\nd%d NS ns.hoster.example.\nns1.d%d A 10.%d.%d.%d\n", i, i, i, i, i>>16&255, i>>8&255, i&255)
		if i%4 == 0 {
			fmt.Fprintf(w, "ns1.d%d AAAA 2001:db8::%x:%x\nd%d DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n", i, i>>16, i&0xffff, i)
		}
	}
	_, err := fmt.Fprintf(w, "@ SOA ns1 hostmaster 2026112301 10800 3600 604800 3600\n")
	return err
}
