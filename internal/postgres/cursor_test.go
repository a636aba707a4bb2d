package postgres

import (
	"encoding/base64"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

func TestCursorRoundTrip(t *testing.T) {
	c := newCursorCodec([]byte("secret"))
	id := uuid.Must(uuid.NewV7())
	at := time.Date(2026, 12, 1, 10, 0, 0, 123456789, time.UTC)
	for _, tt := range []struct {
		kind sortKind
		key  any
	}{{kindTime, at}, {kindText, "Zoë 🍵 \"quoted\""}, {kindInt, int64(100_000_000_000)}, {kindFloat, 0.25}} {
		raw, err := c.encode("name", tt.key, id)
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.decode(raw, "name")
		if err != nil || p.ID != id {
			t.Fatalf("decode(%s) = %+v, %v", raw, p, err)
		}
		key, err := keyOf(p, tt.kind)
		if err != nil {
			t.Fatal(err)
		}
		if want := tt.key; key != want && !(tt.kind == kindTime && key.(time.Time).Equal(at)) {
			t.Fatalf("key %v, want %v", key, want)
		}
	}
	raw, _ := c.encode("name", "tea", id)
	for name, bad := range map[string]string{
		"another sort":     "", // checked below
		"another key":      mustEncode(t, newCursorCodec([]byte("other")), "name", "tea", id),
		"flipped byte":     flip(raw),
		"truncated":        raw[:len(raw)-3],
		"not base64":       "@@@@",
		"too short":        "AAAA",
		"unsigned payload": base64.RawURLEncoding.EncodeToString([]byte(`{"s":"name","k":"tea"}`)),
	} {
		sort := "name"
		if name == "another sort" {
			bad, sort = raw, "-name"
		}
		if _, err := c.decode(bad, sort); err != errBadCursor {
			t.Errorf("%s: decode = %v, want errBadCursor", name, err)
		}
	}
	p, _ := c.decode(raw, "name")
	if _, err := keyOf(p, kindInt); err != errBadCursor {
		t.Errorf("a text key read as an integer: %v", err)
	}
	// Deployments share cursors: the same secret, the same key.
	if _, err := newCursorCodec([]byte("secret")).decode(raw, "name"); err != nil {
		t.Errorf("another instance refuses the cursor: %v", err)
	}
}

func mustEncode(t *testing.T, c cursorCodec, sort string, key any, id uuid.UUID) string {
	t.Helper()
	raw, err := c.encode(sort, key, id)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func flip(s string) string {
	b := []byte(s)
	if b[len(b)/2] == 'A' {
		b[len(b)/2] = 'B'
	} else {
		b[len(b)/2] = 'A'
	}
	return string(b)
}

// FuzzCursorDecode: no input panics the decoder or gets past it unsigned, and every position the
// service encodes decodes back to itself.
func FuzzCursorDecode(f *testing.F) {
	c := newCursorCodec([]byte("fuzz"))
	real, _ := c.encode("name", "tea", uuid.Nil)
	for _, seed := range []string{real, "AAAA", "", "eyJzIjoibmFtZSJ9", real[:len(real)-1], "x_-"} {
		f.Add(seed, "name", "Sencha\u0000")
	}
	f.Fuzz(func(t *testing.T, raw, sort, key string) {
		if p, err := c.decode(raw, sort); err == nil {
			if p.Sort != sort {
				t.Fatalf("decoded a cursor of sort %q for %q", p.Sort, sort)
			}
			again, err := c.encode(p.Sort, p.Key, p.ID)
			if err != nil || again != raw {
				t.Fatalf("accepted %q, which the service would encode as %q", raw, again)
			}
		}
		if !utf8.ValidString(sort) {
			return // sorts come from the domains' whitelists
		}
		enc, err := c.encode(sort, key, uuid.Nil)
		if err != nil {
			t.Fatal(err)
		}
		p, err := c.decode(enc, sort)
		if err != nil {
			t.Fatalf("the service's own cursor %q refused: %v", enc, err)
		}
		got, err := keyOf(p, kindText)
		if err != nil || got != stringOf(key) {
			t.Fatalf("key %q came back as %q (%v)", key, got, err)
		}
	})
}

// stringOf is what a key survives JSON as: each invalid UTF-8 byte becomes U+FFFD, as in []rune(s).
func stringOf(s string) string { return string([]rune(s)) }
