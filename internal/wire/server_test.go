package wire

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// rawServer is a loopback TCP server that answers each connection with a
// script, writing bytes net/http would never produce, and keeps exactly the
// bytes it read and wrote so tests can compare them with the record.
type rawServer struct {
	ln     net.Listener
	script func(c *serverConn)
	wg     sync.WaitGroup

	mu    sync.Mutex
	conns []*serverConn
}

// serverConn records what crossed the wire from the server's side.
type serverConn struct {
	net.Conn
	mu   sync.Mutex
	read bytes.Buffer
	sent bytes.Buffer
}

func (c *serverConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.read.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

func (c *serverConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.mu.Lock()
	c.sent.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

// readRequest reads up to the end of the request head (our requests have no body).
func (c *serverConn) readRequest() error {
	var buf [1]byte
	for !bytes.HasSuffix(c.readBytes(), []byte("\r\n\r\n")) {
		if _, err := c.Read(buf[:]); err != nil {
			return err
		}
	}
	return nil
}

func (c *serverConn) readBytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.read.Bytes())
}

func (c *serverConn) sentBytes() []byte {
	c.mu.Lock()
	defer c.mu.Unlock()
	return bytes.Clone(c.sent.Bytes())
}

// reset closes the connection with an RST instead of a FIN.
func (c *serverConn) reset() {
	if tc, ok := c.Conn.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Conn.Close()
}

func startRawServer(t *testing.T, tlsConfig *tls.Config, script func(c *serverConn)) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{ln: ln, script: script}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			var conn net.Conn = c
			if tlsConfig != nil {
				conn = tls.Server(c, tlsConfig)
			}
			sc := &serverConn{Conn: conn}
			s.mu.Lock()
			s.conns = append(s.conns, sc)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer sc.Close()
				sc.SetDeadline(time.Now().Add(20 * time.Second))
				if err := sc.readRequest(); err != nil {
					return
				}
				s.script(sc)
			}()
		}
	}()
	t.Cleanup(s.close)
	return s
}

func (s *rawServer) addr() string { return s.ln.Addr().String() }

// conn waits for the server side of the n-th connection to be finished.
func (s *rawServer) lastConn(t *testing.T) *serverConn {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.conns) == 0 {
		t.Fatal("server saw no connection")
	}
	return s.conns[len(s.conns)-1]
}

func (s *rawServer) close() {
	s.ln.Close()
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// writeAll is a script that sends fixed bytes and closes.
func writeAll(resp string) func(c *serverConn) {
	return func(c *serverConn) { io.WriteString(c, resp) }
}

// selfSigned makes a throwaway certificate for site.test.
func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "site.test"},
		DNSNames:     []string{"site.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

// repeat builds n bytes of a readable pattern.
func repeat(n int) string {
	return strings.Repeat("0123456789abcdef", n/16+1)[:n]
}
