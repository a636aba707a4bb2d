package edge

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"

	"github.com/oasdiff/yaml"

	gendocs "github.com/storefront/storefront/gen/docs"
	"github.com/storefront/storefront/openapi"
)

// Docs holds the contract as YAML and JSON and the Redoc page, prepared once, when first asked for.
// CSP is the page's Content-Security-Policy.
type Docs struct {
	YAML, JSON, HTML []byte
	CSP              string
}

// NewDocs prepares the documents, once per process: they never change. They are built on first use, not
// at start-up: a process that never serves them does not hold them (about 2.5 MB: the page inlines
// Redoc's 1.1 MB bundle). TestDocsBuild proves they build.
var NewDocs = sync.OnceValues(newDocs)

func newDocs() (*Docs, error) {
	j, err := yaml.YAMLToJSON(openapi.YAML)
	if err != nil {
		return nil, fmt.Errorf("converting spec to JSON: %w", err)
	}
	if !json.Valid(j) {
		return nil, fmt.Errorf("spec did not convert to valid JSON")
	}
	// Redoc's bundle is inlined and allowed by its hash, so the page needs no CDN and no
	// 'unsafe-inline' scripts. Redoc injects its styles and starts a web worker from a blob.
	// Inside an inline script, "<!--" and "<script" can change how the HTML parser finds the closing tag;
	// in the minified bundle they only occur in string and regex literals, where \x3C means the same "<".
	// Redoc's sidebar logo is hard-wired to its CDN; an empty data: image fails and Redoc hides it, so
	// the page makes no request outside this service.
	script := []byte(strings.NewReplacer("<!--", `\x3C!--`, "<script", `\x3Cscript`, "</script", `\x3C/script`,
		"https://cdn.redoc.ly/redoc/logo-mini.svg", "data:,").Replace(string(gendocs.RedocStandalone)))
	sum := sha256.Sum256(script)
	var b strings.Builder
	b.WriteString(`<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Storefront API</title>`)
	b.WriteString(`<meta name="viewport" content="width=device-width, initial-scale=1"></head><body>`)
	b.WriteString(`<redoc spec-url="/openapi.json"></redoc><script>`)
	b.Write(script)
	b.WriteString(`</script></body></html>`)
	csp := "default-src 'none'; script-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
		"worker-src blob:; frame-ancestors 'none'"
	return &Docs{YAML: openapi.YAML, JSON: j, HTML: []byte(b.String()), CSP: csp}, nil
}
