package edge

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

// The documents are built on first use, not at start-up: this is the check start-up used to make.
func TestDocsBuild(t *testing.T) {
	d, err := NewDocs()
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		OpenAPI string `json:"openapi"`
	}
	if err := json.Unmarshal(d.JSON, &spec); err != nil || !strings.HasPrefix(spec.OpenAPI, "3.1") {
		t.Fatalf("openapi.json: %v, openapi %q", err, spec.OpenAPI)
	}
	if !bytes.HasPrefix(d.YAML, []byte("openapi: 3.1")) {
		t.Fatalf("openapi.yaml starts %q", d.YAML[:min(40, len(d.YAML))])
	}
	if !bytes.Contains(d.HTML, []byte(`<redoc spec-url="/openapi.json">`)) || !strings.Contains(d.CSP, "script-src 'sha256-") {
		t.Fatal("the docs page or its CSP is not what it should be")
	}
	if again, _ := NewDocs(); again != d {
		t.Fatal("built twice")
	}
}
