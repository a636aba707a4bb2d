package edge

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/storefront/storefront/internal/apperr"
)

func TestTextProblem(t *testing.T) {
	for s, bad := range map[string]bool{
		"plain": false, "tab\tnewline\ncr\r": false, "é ü 中文 🍵": false, "\u202e": false, // bidi is the identity rule's business
		"nul\x00": true, "bell\a": true, "esc\x1b": true, "del\x7f": true, "\xff": true, "\xc3\x28": true, "\xed\xa0\x80": true,
	} {
		if got := textProblem(s) != ""; got != bad {
			t.Errorf("textProblem(%q) = %q", s, textProblem(s))
		}
	}
}

func TestInvalidUTF8Field(t *testing.T) {
	for body, want := range map[string]string{
		"{\"name\":\"a\xffb\"}":                            "name",
		"{\"a\":1,\"items\":[{\"x\":1},{\"q\":\"\xff\"}]}": "items[1].q",
		"[\"ok\",\"\xff\"]":                                "[1]",
		"{\"outer\":{\"k\xff\":1}}":                        "outer",
		"{\"k\xff\":1}":                                    "",
		"\"\xff\"":                                         "",
	} {
		got, ok := invalidUTF8Field([]byte(body))
		if !ok || got != want {
			t.Errorf("invalidUTF8Field(%q) = %q, %v; want %q", body, got, ok, want)
		}
	}
}

// The rules refuse a body before any handler runs: a NUL in a registration's name never reaches the
// handler (which would hash the password first).
func TestRulesRunBeforeTheHandler(t *testing.T) {
	ct, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(nil)
	e.Use(validateRequests(ct))
	e.POST("/v1/users", func(echo.Context) error {
		t.Error("the handler ran")
		return nil
	})
	for _, body := range []string{`{"email":"a@example.com","password":"long-enough","name":"a\u0000"}`,
		"{\"email\":\"a@example.com\",\"password\":\"long-enough\",\"name\":\"a\xff\"}"} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/v1/users", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), `"field":"name"`) {
			t.Fatalf("status %d body %s", rec.Code, rec.Body.String())
		}
	}
}

// FuzzBodyChecks: the body checks never panic, and what they accept holds no text the rule refuses,
// and canonicalises to JSON that decodes to the same value.
func FuzzBodyChecks(f *testing.F) {
	for _, seed := range []string{`{"name":"tea"}`, `{"a":[1,2.0,1e1,{"b":"\u0000"}]}`, "{\"k\xff\":1}", `[]`, `"x"`, `{"a":`,
		`{"items":[{"product_id":"x","quantity":2.0}]}`, "{\"a\":\"\xc3\x28\"}", `{"a":"\t\n"}`, `{} {}`, `null`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_, _ = invalidUTF8Field(body)
		v, err := decodeJSON(body)
		if err != nil {
			if _, ok := apperr.As(err); !ok {
				t.Fatalf("decodeJSON error is not an apperr: %v", err)
			}
			return
		}
		var details []apperr.Detail
		bodyTextDetails(v, "", &details)
		if len(details) > 0 {
			return
		}
		var walk func(any)
		walk = func(x any) {
			switch y := x.(type) {
			case string:
				if textProblem(y) != "" || !utf8.ValidString(y) {
					t.Fatalf("accepted text %q", y)
				}
			case map[string]any:
				for k, e := range y {
					walk(k)
					walk(e)
				}
			case []any:
				for _, e := range y {
					walk(e)
				}
			}
		}
		walk(v)
		canonical, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("canonical form: %v", err)
		}
		again, err := decodeJSON(canonical)
		if err != nil {
			t.Fatalf("the canonical form %s does not decode: %v", canonical, err)
		}
		if c2, _ := json.Marshal(again); !bytes.Equal(c2, canonical) {
			t.Fatalf("canonical form unstable: %s then %s", canonical, c2)
		}
	})
}
