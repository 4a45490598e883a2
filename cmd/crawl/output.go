package main

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"text/tabwriter"
)

// rowPrinter prints results as JSON lines (--json) or as a table whose
// columns are given once.
type rowPrinter struct {
	e  *env
	tw *tabwriter.Writer
	n  int
	// flushEvery, when set, flushes the table every so many rows, so that
	// long listings stream (columns are aligned within each block).
	flushEvery int
}

func (e *env) rows(columns ...string) *rowPrinter {
	p := &rowPrinter{e: e}
	if !e.json {
		p.tw = tabwriter.NewWriter(e.stdout, 2, 4, 2, ' ', 0)
		fmt.Fprintln(p.tw, strings.ToUpper(strings.Join(columns, "\t")))
	}
	return p
}

// add prints v as one JSON line, or cells as one table row.
func (p *rowPrinter) add(v any, cells ...string) error {
	p.n++
	if p.tw == nil {
		b, err := json.Marshal(v)
		if err != nil {
			return fmt.Errorf("encode output: %w", err)
		}
		_, err = fmt.Fprintf(p.e.stdout, "%s\n", b)
		return err
	}
	for i, c := range cells {
		// Tabs and newlines in page text would break the table.
		cells[i] = strings.Join(strings.Fields(c), " ")
	}
	_, err := fmt.Fprintln(p.tw, strings.Join(cells, "\t"))
	if err == nil && p.flushEvery > 0 && p.n%p.flushEvery == 0 {
		err = p.tw.Flush()
	}
	return err
}

func (p *rowPrinter) flush() error {
	if p.tw != nil {
		return p.tw.Flush()
	}
	return nil
}

// clip shortens s to n runes for a table cell.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// plainSnippet turns a search snippet (an HTML fragment with <mark>) into
// plain text for a table: marks become «», entities their characters.
func plainSnippet(s string) string {
	s = strings.NewReplacer("<mark>", "«", "</mark>", "»").Replace(s)
	return html.UnescapeString(s)
}
