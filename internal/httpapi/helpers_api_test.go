package httpapi_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/storefront/storefront/gen/apiclient"
)

type statusResponse interface{ StatusCode() int }

// wantStatus fails the test unless the response has the status.
func wantStatus(t *testing.T, resp statusResponse, body []byte, err error, want int) {
	t.Helper()
	if err != nil {
		t.Fatalf("request failed: %v", err)
	}
	if resp.StatusCode() != want {
		t.Fatalf("status = %d, want %d; body: %s", resp.StatusCode(), want, body)
	}
}

// wantError checks status and error code, and returns the error body.
func wantError(t *testing.T, resp statusResponse, body []byte, err error, status int, code string) apiclient.ErrorBody {
	t.Helper()
	wantStatus(t, resp, body, err, status)
	var e apiclient.Error
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v: %s", err, body)
	}
	if string(e.Error.Code) != code {
		t.Fatalf("code = %s, want %s; body: %s", e.Error.Code, code, body)
	}
	if e.Error.RequestId == "" || e.Error.Message == "" {
		t.Fatalf("error lacks request_id or message: %s", body)
	}
	return e.Error
}

// wantFields checks that the details name exactly these fields (in any order).
func wantFields(t *testing.T, e apiclient.ErrorBody, fields ...string) {
	t.Helper()
	got := map[string]bool{}
	if e.Details != nil {
		for _, d := range *e.Details {
			got[d.Field] = true
		}
	}
	for _, f := range fields {
		if !got[f] {
			t.Errorf("details do not name %q: %+v", f, e.Details)
		}
		delete(got, f)
	}
	if len(got) > 0 {
		t.Errorf("details name unexpected fields %v", got)
	}
}

func ptr[T any](v T) *T { return &v }

func jsonBody(s string) *strings.Reader { return strings.NewReader(s) }
