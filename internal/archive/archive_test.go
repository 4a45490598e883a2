package archive

import (
	"strings"
	"testing"
)

func TestDecodeLines(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    []string // host names
		wantErr string
	}{
		{"empty", "", nil, ""},
		{"two lines", `{"name":"a.test"}` + "\n" + `{"name":"b.test"}` + "\n", []string{"a.test", "b.test"}, ""},
		{"no final newline, blank lines", "\n" + `{"name":"a.test"}` + "\n\n" + `{"name":"b.test"}`, []string{"a.test", "b.test"}, ""},
		{"bad line keeps those before", `{"name":"a.test"}` + "\n" + `{"name":` + "\n", []string{"a.test"}, "host line 2"},
		{"bad lines keep those after", `{"name":` + "\n" + `{"name":"a.test"}` + "\n" + `[]` + "\n" + `{"name":"b.test"}`, []string{"a.test", "b.test"}, "host line 3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			hosts, err := DecodeLines([]byte(tc.body))
			var got []string
			for _, h := range hosts {
				got = append(got, h.Name)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("hosts %v, want %v", got, tc.want)
			}
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", err, tc.wantErr)
			}
		})
	}
}

func TestKind(t *testing.T) {
	for uri, want := range map[string]string{
		HostURI("a.test"):       "host",
		HostsURI("test"):        "hosts",
		HostStatusURI("a.test"): "host-status",
		AttemptURI("test"):      "attempt",
		"http://a.test/":        "",
	} {
		if got := Kind(uri); got != want {
			t.Errorf("Kind(%q) = %q, want %q", uri, got, want)
		}
	}
}
