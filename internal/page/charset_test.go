package page

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

func TestDecode(t *testing.T) {
	euckr := func(s string) []byte {
		b, err := korean.EUCKR.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	gbk := func(s string) []byte {
		b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	big5 := func(s string) []byte {
		b, err := traditionalchinese.Big5.NewEncoder().Bytes([]byte(s))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	const ko = "<p>대한민국 서울특별시 소식</p>"
	for _, tc := range []struct {
		name, ct string
		body     []byte
		want     string
		charset  string
	}{
		{"empty", "text/html", nil, "", "utf-8"},
		{"empty with header charset", "text/html; charset=euc-kr", []byte{}, "", "euc-kr"},
		{"plain ascii", "", []byte("<p>hi</p>"), "<p>hi</p>", "utf-8"},
		{"utf-8 undeclared", "", []byte(ko), ko, "utf-8"},
		{"utf-8 bom beats header", "text/html; charset=euc-kr", append([]byte("\xEF\xBB\xBF"), ko...), ko, "utf-8"},
		{"utf-16le bom", "", []byte("\xFF\xFE<\x00p\x00>\x00\\\xD5\x00\xAE"), "<p>한글", "utf-16le"},
		{"euc-kr header", "text/html; charset=EUC-KR", euckr(ko), ko, "euc-kr"},
		{"ks_c_5601-1987 header", "text/html; charset=ks_c_5601-1987", euckr(ko), ko, "euc-kr"},
		{"windows-949 header", "text/html; charset=\"windows-949\"", euckr("똠방각하"), "똠방각하", "euc-kr"},
		{"euc-kr meta charset", "text/html", append([]byte(`<meta charset="euc-kr">`), euckr(ko)...), `<meta charset="euc-kr">` + ko, "euc-kr"},
		{"euc-kr meta http-equiv", "", append([]byte(`<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=ks_c_5601-1987">`), euckr(ko)...),
			`<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=ks_c_5601-1987">` + ko, "euc-kr"},
		{"header beats meta", "text/html; charset=euc-kr", append([]byte(`<meta charset="utf-8">`), euckr(ko)...), `<meta charset="utf-8">` + ko, "euc-kr"},
		{"unknown header label falls through to meta", "text/html; charset=KPS9566", append([]byte(`<meta charset="euc-kr">`), euckr(ko)...), `<meta charset="euc-kr">` + ko, "euc-kr"},
		{"undeclared euc-kr by bytes", "text/html", euckr(ko), ko, "euc-kr"},
		{"meta latin-1 but euc-kr bytes", "", append([]byte(`<meta charset="iso-8859-1">`), euckr(ko)...), `<meta charset="iso-8859-1">` + ko, "euc-kr"},
		{"undeclared latin-1 stays windows-1252", "", []byte("<p>Caf\xe9 cr\xe8me br\xfbl\xe9e, \xe0 la fran\xe7aise</p>"), "<p>Café crème brûlée, à la française</p>", "windows-1252"},
		{"gbk header", "text/html; charset=gb2312", gbk("北京欢迎你"), "北京欢迎你", "gbk"},
		{"big5 header", "text/html; charset=big5", big5("臺北歡迎你"), "臺北歡迎你", "big5"},
		{"iso-8859-2 header", "text/html; charset=iso-8859-2", []byte("\xb1\xe6"), "ąć", "iso-8859-2"},
		{"meta utf-16 means utf-8", "", []byte(`<meta charset="utf-16"><p>한`), `<meta charset="utf-16"><p>한`, "utf-8"},
		{"invalid utf-8 declared", "text/html; charset=utf-8", []byte("a\xffb\xc3"), "a\uFFFDb\uFFFD", "utf-8"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			orig := bytes.Clone(tc.body)
			got, cs, err := Decode(tc.body, tc.ct)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want || cs != tc.charset {
				t.Errorf("Decode = %q, %q; want %q, %q", got, cs, tc.want, tc.charset)
			}
			if !utf8.Valid(got) {
				t.Errorf("invalid UTF-8 output %q", got)
			}
			if !bytes.Equal(tc.body, orig) {
				t.Error("input modified")
			}
			if len(got) > 0 && len(tc.body) > 0 {
				got[0] ^= 0xff // the result must not alias the input
				if !bytes.Equal(tc.body, orig) {
					t.Error("result aliases the input")
				}
			}
		})
	}
}

// The Korean fallback by host: undeclared non-UTF-8 bytes under .kr are
// EUC-KR even when there is too little Hangul to tell from the bytes.
func TestParseKoreanHostFallback(t *testing.T) {
	b, _ := korean.EUCKR.NewEncoder().Bytes([]byte("<title>서울</title>"))
	for _, tc := range []struct{ host, want string }{
		{"http://www.seoul.go.kr/", "euc-kr"},
		{"http://naenara.com.kp./", "euc-kr"},
		{"http://www.example.com/", "windows-1252"},
	} {
		p, err := Parse(b, "text/html", mustURL(t, tc.host))
		if err != nil {
			t.Fatal(err)
		}
		if p.Charset != tc.want {
			t.Errorf("%s: charset %q, want %q", tc.host, p.Charset, tc.want)
		}
		if tc.want == "euc-kr" && p.Title != "서울" {
			t.Errorf("%s: title %q", tc.host, p.Title)
		}
	}
}

func TestIsHTML(t *testing.T) {
	for _, tc := range []struct {
		name, ct string
		body     string
		want     bool
	}{
		{"html header", "text/html; charset=utf-8", "<p>x", true},
		{"html header, no tags", "text/html", "just text", true},
		{"html header, empty", "text/html", "", true},
		{"xhtml header", "application/xhtml+xml", "<?xml version='1.0'?><html/>", true},
		{"header case", "TEXT/HTML", "<p>x", true},
		{"malformed header", "text/html;;charset=utf-8", "<p>x", true},
		{"html header but png", "text/html", "\x89PNG\r\n\x1a\n\x00\x00", false},
		{"html header but gzip", "text/html", "\x1f\x8b\x08\x00\x00\x00\x00\x00", false},
		{"html header but pdf", "text/html", "%PDF-1.4\n\x00\x01", false},
		{"no header, html", "", "<!DOCTYPE html><html>", true},
		{"no header, html after BOM", "", "\xEF\xBB\xBF<html><body>", true},
		{"html header, stray NUL in a page", "text/html", "<html><head>\x00<title>x</title>", true},
		{"no header, xhtml", "", "<?xml version='1.0'?>\n<html xmlns='http://www.w3.org/1999/xhtml'>", true},
		{"octet-stream, html", "application/octet-stream", "<html><body>", true},
		{"no header, text", "", "plain", false},
		{"css", "text/css", "<html>", false},
		{"plain text is not sniffed", "text/plain", "<html>", false},
		{"image", "image/jpeg", "<html>", false},
	} {
		if got := IsHTML(tc.ct, []byte(tc.body)); got != tc.want {
			t.Errorf("%s: IsHTML(%q, %q) = %v, want %v", tc.name, tc.ct, tc.body, got, tc.want)
		}
	}
}
