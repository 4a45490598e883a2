package discover

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/miekg/dns"
)

// transferResult is what one AXFR attempt produced.
type transferResult struct {
	zone    *zoneData // complete zone data, nil unless transferred
	file    string    // saved master file, "" if not saved
	outcome string
	err     error
	drops   map[string]int // records dropped, by reason
}

// transfer asks one server for an AXFR of zone over TCP and streams the
// records into a fresh zoneData and, when dir is set, a master file. It
// dials and reads the messages itself rather than using dns.Transfer, so
// that the context can cancel it, each message gets a read deadline, the
// first message's rcode can be classified, and the record count is capped
// while the stream runs.
func transfer(ctx context.Context, cfg *Config, zone, server string, warn func(error)) transferResult {
	ctx, cancel := context.WithTimeout(ctx, cfg.TransferTimeout)
	defer cancel()

	d := net.Dialer{Timeout: cfg.Timeout}
	raw, err := d.DialContext(ctx, "tcp", server)
	if err != nil {
		return failed(zone, server, err)
	}
	// Closing the connection is the only way to stop a blocked read when
	// the context ends.
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()
	defer raw.Close()
	conn := &dns.Conn{Conn: raw}

	q := new(dns.Msg)
	q.SetAxfr(zone)
	raw.SetWriteDeadline(time.Now().Add(cfg.Timeout))
	if err := conn.WriteMsg(q); err != nil {
		return failed(zone, server, err)
	}

	z := newZoneData(zone)
	complete := false
	defer func() {
		if !complete {
			z.free()
		}
	}()
	var (
		out     *bufio.Writer
		tmp     *os.File
		first   = true
		closing bool
		dropped int
		drops   = map[string]int{}
	)
	defer func() {
		if tmp != nil { // not renamed: drop the partial file
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	for !closing {
		raw.SetReadDeadline(time.Now().Add(cfg.Timeout))
		m, err := conn.ReadMsg()
		if err != nil {
			if ctx.Err() != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				err = fmt.Errorf("%w (%w)", ctx.Err(), err)
			}
			if first {
				return failed(zone, server, err)
			}
			return brokenResult(zone, server, fmt.Errorf("stream cut after %d records: %w", z.records, err))
		}
		if m.Id != q.Id {
			return brokenResult(zone, server, fmt.Errorf("reply id %d, asked %d", m.Id, q.Id))
		}
		if first {
			switch m.Rcode {
			case dns.RcodeSuccess:
			case dns.RcodeRefused, dns.RcodeNotImplemented, dns.RcodeFormatError:
				return transferResult{outcome: OutcomeRefused, err: fmt.Errorf("transfer %s from %s: %s: %w", display(zone), server, dns.RcodeToString[m.Rcode], ErrRefused)}
			default:
				return transferResult{outcome: OutcomeNotAuthoritative, err: fmt.Errorf("transfer %s from %s: %s: %w", display(zone), server, dns.RcodeToString[m.Rcode], ErrNotAuthoritative)}
			}
			if len(m.Answer) == 0 {
				return brokenResult(zone, server, errors.New("empty first message"))
			}
			soa, ok := m.Answer[0].(*dns.SOA)
			if !ok {
				return brokenResult(zone, server, fmt.Errorf("first record is %s, not SOA: %w", dns.TypeToString[m.Answer[0].Header().Rrtype], ErrSOAMismatch))
			}
			if owner := dns.CanonicalName(soa.Hdr.Name); owner != z.apex {
				return brokenResult(zone, server, fmt.Errorf("SOA for %s: %w", display(owner), ErrSOAMismatch))
			}
			if cfg.ZoneDir != "" {
				if tmp, err = os.CreateTemp(cfg.ZoneDir, ".axfr-*"); err != nil {
					return brokenResult(zone, server, fmt.Errorf("save: %w", err))
				}
				out = bufio.NewWriterSize(tmp, 64<<10)
			}
		} else if m.Rcode != dns.RcodeSuccess {
			return brokenResult(zone, server, fmt.Errorf("rcode %s mid-stream", dns.RcodeToString[m.Rcode]))
		}
		for i, rr := range m.Answer {
			if soa, ok := rr.(*dns.SOA); ok && !(first && i == 0) {
				// The closing SOA ends the transfer; it must be the last
				// record and match the opening one.
				if i != len(m.Answer)-1 {
					return brokenResult(zone, server, errors.New("SOA in the middle of the stream"))
				}
				if soa.Serial != z.serial || dns.CanonicalName(soa.Hdr.Name) != z.apex {
					return brokenResult(zone, server, fmt.Errorf("closing SOA %s serial %d, opening serial %d: %w", display(soa.Hdr.Name), soa.Serial, z.serial, ErrSOAMismatch))
				}
				closing = true
				break
			}
			if z.records >= cfg.MaxRecords {
				return brokenResult(zone, server, fmt.Errorf("more than %d records: %w", cfg.MaxRecords, ErrTooManyRecords))
			}
			if err := z.add(rr); err != nil {
				// A server that sends names outside its zone is worth a
				// warning, not a flood of them.
				if dropped++; dropped <= cfg.MaxBadLines {
					warn(fmt.Errorf("transfer %s from %s: %w", display(zone), server, err))
				}
				drops[dropReason(err)]++
				continue
			}
			if out != nil {
				out.WriteString(rr.String())
				out.WriteByte('\n')
			}
		}
		first = false
	}
	if dropped > cfg.MaxBadLines {
		warn(fmt.Errorf("transfer %s from %s: %d more records dropped", display(zone), server, dropped-cfg.MaxBadLines))
	}
	res := transferResult{zone: z, outcome: OutcomeTransferred, drops: drops}
	if tmp != nil {
		// A failed save fails the attempt; the deferred calls free the zone
		// and remove the temporary file.
		name := filepath.Join(cfg.ZoneDir, ZoneFileName(zone, z.serial))
		err := out.Flush()
		if err == nil {
			err = tmp.Close()
		}
		if err == nil {
			err = os.Rename(tmp.Name(), name)
		}
		if err != nil {
			return brokenResult(zone, server, fmt.Errorf("save: %w", err))
		}
		tmp = nil
		res.file = name
	}
	complete = true
	return res
}

// ZoneFileName is the name a transferred zone is saved under:
// ZONE_SERIAL.zone ("root" for the root zone). Saving the same serial
// again replaces the file, so a second run updates rather than duplicates.
func ZoneFileName(zone string, serial uint32) string {
	name := display(dns.CanonicalName(zone))
	if name == "." {
		name = "root"
	}
	name = strings.NewReplacer("/", "_", "\\", "_").Replace(name)
	return fmt.Sprintf("%s_%d.zone", name, serial)
}

func brokenResult(zone, server string, err error) transferResult {
	if !errors.Is(err, ErrBroken) {
		err = fmt.Errorf("%w: %w", ErrBroken, err)
	}
	return transferResult{outcome: OutcomeBroken, err: fmt.Errorf("transfer %s from %s: %w", display(zone), server, err)}
}

// failed classifies an error met before any answer arrived.
func failed(zone, server string, err error) transferResult {
	outcome, class := classify(err)
	return transferResult{outcome: outcome, err: fmt.Errorf("transfer %s from %s: %w: %w", display(zone), server, class, err)}
}

// classify maps a network or protocol error to an attempt outcome.
func classify(err error) (string, error) {
	var ne net.Error
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return OutcomeConnectionRefused, ErrConnRefused
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return OutcomeTimeout, ErrTimeout
	}
	return OutcomeBroken, ErrBroken
}
