package world

import (
	"context"
	"io"
	"net/http"
	"testing"

	"github.com/miekg/dns"
)

func BenchmarkStart(b *testing.B) {
	for b.Loop() {
		w, err := Start(context.Background(), Options{})
		if err != nil {
			b.Fatal(err)
		}
		w.Close()
	}
}

func BenchmarkQueryUDP(b *testing.B) {
	w := startWorld(b, Options{})
	c := new(dns.Client)
	m := new(dns.Msg)
	m.SetQuestion("www.friend.com.test.", dns.TypeA)
	for b.Loop() {
		if _, _, err := c.Exchange(m, at(w, "127.53.1.10")); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTransferTLD(b *testing.B) {
	w := startWorld(b, Options{})
	for b.Loop() {
		m := new(dns.Msg)
		m.SetAxfr("com.test.")
		env, err := new(dns.Transfer).In(m, at(w, "127.53.1.1"))
		if err != nil {
			b.Fatal(err)
		}
		for e := range env {
			if e.Error != nil {
				b.Fatal(e.Error)
			}
		}
	}
}

func BenchmarkPage(b *testing.B) {
	w := startWorld(b, Options{})
	c := client(w)
	for b.Loop() {
		resp, err := c.Get("http://portal.gov.test/news/")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatal(resp.Status)
		}
		b.SetBytes(n)
	}
}
