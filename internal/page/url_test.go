package page

import (
	"errors"
	"net/url"
	"testing"
)

func TestNormalize(t *testing.T) {
	base := "http://www.example.com/a/b/c.html?x=1"
	for _, tc := range []struct {
		raw, base, want string
		err             error
	}{
		{"HTTP://WWW.Example.COM/", "", "http://www.example.com/", nil},
		{"http://example.com", "", "http://example.com/", nil},
		{"http://example.com:80/x", "", "http://example.com/x", nil},
		{"https://example.com:443/x", "", "https://example.com/x", nil},
		{"http://example.com:8080/x", "", "http://example.com:8080/x", nil},
		{"https://example.com:80/x", "", "https://example.com:80/x", nil},
		{"http://example.com/x#frag", "", "http://example.com/x", nil},
		{"http://example.com/x?", "", "http://example.com/x", nil},
		{"http://example.com/?b=2&a=1&b=1", "", "http://example.com/?b=2&a=1&b=1", nil}, // order kept
		{"http://example.com/%7euser/%2fx/%41%2D%5F%2E", "", "http://example.com/~user/%2Fx/A-_.", nil},
		{"http://example.com/?q=%e2%82%ac&r=%41", "", "http://example.com/?q=%E2%82%AC&r=A", nil},
		{"http://example.com/a b", "", "http://example.com/a%20b", nil},
		{"http://example.com/100%", "", "http://example.com/100%25", nil},
		{"http://example.com/%zz", "", "http://example.com/%25zz", nil},
		{"http://example.com/한글?q=한글", "", "http://example.com/%ED%95%9C%EA%B8%80?q=%ED%95%9C%EA%B8%80", nil},
		{"http://한국.kr/", "", "http://xn--3e0b707e.kr/", nil},
		{"http://BÜCHER.de/", "", "http://xn--bcher-kva.de/", nil},
		{"http://faß.de/", "", "http://xn--fa-hia.de/", nil}, // non-transitional (Lookup profile)
		{"http://example.com./", "", "http://example.com./", nil},
		{"http://example.com/a/./b/../c/", "", "http://example.com/a/c/", nil},
		{"http://example.com/a/%2e%2E/b", "", "http://example.com/b", nil},
		{"http://example.com/../../x", "", "http://example.com/x", nil},
		{"  \t http://exa\nmple.com/a\tb\r\n ", "", "http://example.com/ab", nil},
		{"http:\\\\example.com\\a\\b", "", "http://example.com/a/b", nil},
		{"http://user:pw@Example.com/", "", "http://user:pw@example.com/", nil},
		{"http://[::1]:80/", "", "http://[::1]/", nil},
		{"http://127.0.0.1:8080/x", "", "http://127.0.0.1:8080/x", nil},
		{"http://0x7f.1/", "", "http://127.0.0.1/", nil},
		// Relative forms.
		{"d.html", base, "http://www.example.com/a/b/d.html", nil},
		{"../d.html", base, "http://www.example.com/a/d.html", nil},
		{"/d", base, "http://www.example.com/d", nil},
		{"//other.example/x", base, "http://other.example/x", nil},
		{"?y=2", base, "http://www.example.com/a/b/c.html?y=2", nil},
		{"", base, "http://www.example.com/a/b/c.html?x=1", nil},
		{"#f", base, "http://www.example.com/a/b/c.html?x=1", nil},
		{"\\d", base, "http://www.example.com/d", nil},
		{"http:d", base, "http://www.example.com/a/b/d", nil},
		// Refused.
		{"javascript:alert(1)", base, "", ErrSkippedScheme},
		{"mailto:a@example.com", base, "", ErrSkippedScheme},
		{"ftp://example.com/f", "", "", ErrSkippedScheme},
		{"data:text/html,x", "", "", ErrSkippedScheme},
		{"relative/only", "", "", ErrInvalidURL},
		{"http://", "", "", ErrInvalidURL},
		{"http://exa mple.com/", "", "", ErrInvalidURL},
		{"http://[::1/", "", "", ErrInvalidURL},
		{"http://a..b%/", "", "", ErrInvalidURL},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			var b *url.URL
			if tc.base != "" {
				b = mustURL(t, tc.base)
			}
			got, err := Normalize(tc.raw, b)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("Normalize(%q) = %q, %v; want error %v", tc.raw, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("Normalize(%q) = %q, %v; want %q", tc.raw, got, err, tc.want)
			}
			again, err := Normalize(got, nil)
			if err != nil || again != got {
				t.Errorf("not idempotent: %q -> %q, %v", got, again, err)
			}
		})
	}
}

func TestSrcsetURLs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"a.jpg", []string{"a.jpg"}},
		{"a.jpg 1x, b.jpg 2x", []string{"a.jpg", "b.jpg"}},
		{"a.jpg 1x,b.jpg 2x", []string{"a.jpg", "b.jpg"}},
		{"a,b.jpg 1x, c.jpg 2x", []string{"a,b.jpg", "c.jpg"}},
		{"a.jpg, b.jpg", []string{"a.jpg", "b.jpg"}},
		{"a.jpg (w 100, h 2), b.jpg", []string{"a.jpg", "b.jpg"}},
		{"a.png 1x (b(c)d, e.png 2x", []string{"a.png", "e.png"}}, // parentheses do not nest (replay's TestSrcsetParens)
		{" , ,, ", nil},
		{"", nil},
	} {
		got := srcsetURLs(tc.in)
		if len(got) != len(tc.want) {
			t.Errorf("srcsetURLs(%q) = %q, want %q", tc.in, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("srcsetURLs(%q) = %q, want %q", tc.in, got, tc.want)
			}
		}
	}
}

func TestRefreshURL(t *testing.T) {
	for in, want := range map[string]string{
		"0; url=/a":        "/a",
		"5;URL='/b?c=d'":   "/b?c=d",
		`0; url="x y"`:     "x y",
		"3, next":          "next",
		"0.5;url = /c":     "/c",
		"10":               "",
		"":                 "",
		"0; url='unclosed": "unclosed",
	} {
		if got := refreshURL(in); got != want {
			t.Errorf("refreshURL(%q) = %q, want %q", in, got, want)
		}
	}
}
