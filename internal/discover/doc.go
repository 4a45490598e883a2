// Package discover turns DNS zones into the web hosts they name.
//
// Data flows in one direction:
//
//	zone name ──► nameserver addresses ──► AXFR over TCP (transfer.go)
//	zone file ──► resilient reader (zonefile.go): master files, dig AXFR
//	              output, and dig answers read by their structure (the
//	              answer's SOA names its zone, whatever the record order)
//	                      │ records, one at a time
//	                      ▼
//	              zoneData (zone.go): a compact table of owner names with
//	              flags, addresses, NS and CNAME edges; never a []dns.RR.
//	              Names live in a pointer-free arena with an open-addressing
//	              index (names.go), moved into memory mappings outside the Go
//	              heap once large (offheap.go), so a TLD of a million
//	              delegations fits in ~150 MB
//	                      │ when the zone is complete
//	                      ▼
//	              host rules: zone cuts, occluded data, roles ──► OnHost
//	              (reverse zones give no host: their PTR records lend
//	              addresses to names in scope, reverse.go)
//	                      │ delegations
//	                      ▼
//	              child zones (walk.go): transfer, else direct probes
//	              (query.go) of the apex and each label, RD=0, AA required
//
// Concurrency: zones are worked on by Config.Concurrency workers (walk.go);
// within one zone the servers are tried one after another. The callbacks
// are serialised, so a caller needs no locking of its own.
//
// Everything that was learned is reported through callbacks as it happens:
// OnAttempt for each transfer attempt, OnTransfer for each saved zone,
// OnLookup for each direct query and OnHost for each final host. The package
// knows nothing of WARC files; the command line turns these reports into
// archive records.
//
// Host rules, in short: names are lowercase A-labels without the trailing
// dot; a name's site is the nearest zone cut at or above it; names at or
// below a cut are the child's business (the parent's copies are glue, used
// only to reach the child's servers); a domain named only by its
// nameservers (kptc.kp, for ns1.kptc.kp in kp with no cut at kptc.kp) is a
// site too, visited like a delegation; roles are nameserver (an NS target),
// mail (an MX target), web (addresses, or a CNAME to something that has
// them) and none (a delegated domain with no web address). Reverse zones
// (in-addr.arpa, ip6.arpa) are never sites: a PTR target under a zone being
// discovered gets the PTR's address when it has none of its own, or
// becomes a host of its own (source PTR).
//
// Logging: a warning is what needs the user's attention (bad input, a
// dropped record, a zone nothing could be learned from) and counts as a
// problem in the Summary; a refused transfer that is then probed is the
// normal course of things and is logged at info level. Every record
// dropped is counted by reason (Summary.Drops). Offline, nothing touches
// the network.
package discover
