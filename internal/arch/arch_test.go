// Package arch checks the architecture: which packages may import which. `make lint` runs it (and so
// does `go test ./...`); a failure names the rule that was broken.
package arch

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

const module = "github.com/storefront/storefront"

// adapters are the packages that may touch the outside world; every other internal package is a domain
// package (new packages are domain packages until they are listed here).
var adapters = map[string]bool{
	"internal/app":          true, // the composition root
	"internal/config":       true,
	"internal/httpapi":      true,
	"internal/httpapi/edge": true,
	"internal/postgres":     true,
	"internal/queue":        true, // River: the webhook delivery jobs
	"internal/redis":        true,
	"internal/telemetry":    true,
	"internal/testenv":      true,
	"internal/webhookhttp":  true, // outbound HTTP: webhook attempts
	"internal/arch":         true,
	"internal/storetest":    true, // test support: the storage contract every store implementation runs
}

type rule struct {
	name string
	// applies says whether the rule governs the package; forbidden whether it may not import path.
	applies   func(pkg string) bool
	forbidden func(path string) bool
}

func prefixOf(prefixes ...string) func(string) bool {
	return func(p string) bool {
		for _, x := range prefixes {
			if p == x || strings.HasPrefix(p, x+"/") {
				return true
			}
		}
		return false
	}
}

func isDomain(pkg string) bool { return strings.HasPrefix(pkg, "internal/") && !adapters[pkg] }

var rules = []rule{
	{
		name:    "domain packages import no adapter, generated code, HTTP, database, Redis or OpenAPI library",
		applies: isDomain,
		forbidden: prefixOf("gen", "internal/postgres", "internal/redis", "internal/httpapi", "internal/app",
			"internal/config", "internal/testenv", "internal/telemetry",
			"github.com/labstack/echo", "github.com/jackc/pgx", "github.com/redis/rueidis", "github.com/getkin/kin-openapi",
			"github.com/oapi-codegen", "github.com/prometheus", "go.opentelemetry.io"),
	},
	{
		name:      "domain packages other than identity import neither identity nor token or password crypto (use internal/access)",
		applies:   func(p string) bool { return isDomain(p) && p != "internal/identity" },
		forbidden: prefixOf("internal/identity", "github.com/golang-jwt", "golang.org/x/crypto"),
	},
	{
		name:      "HTTP handlers and the edge do not reach storage: they talk to the domain services",
		applies:   prefixOf("internal/httpapi"),
		forbidden: prefixOf("internal/postgres", "internal/redis", "github.com/jackc/pgx", "github.com/redis/rueidis", "gen/db"),
	},
	{
		name:      "storage adapters do not depend on the HTTP layer",
		applies:   prefixOf("internal/postgres", "internal/redis"),
		forbidden: prefixOf("internal/httpapi", "gen/api", "github.com/labstack/echo", "github.com/getkin/kin-openapi"),
	},
}

type listed struct {
	ImportPath string
	Imports    []string
	Dir        string
	GoFiles    []string
}

func goList(t *testing.T) []listed {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	var pkgs []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func local(path string) string { return strings.TrimPrefix(strings.TrimPrefix(path, module), "/") }

// TestImportRules checks every non-test import of every package against the rules.
func TestImportRules(t *testing.T) {
	checked := 0
	for _, p := range goList(t) {
		pkg := local(p.ImportPath)
		for _, r := range rules {
			if !r.applies(pkg) {
				continue
			}
			checked++
			for _, imp := range p.Imports {
				if r.forbidden(local(imp)) {
					t.Errorf("rule %q: %s imports %s", r.name, pkg, imp)
				}
			}
		}
	}
	if checked == 0 {
		t.Fatal("no package was checked")
	}
}

// beginCall finds the calls that begin a transaction: pool.Begin(ctx), tx.Begin(ctx), BeginTx(...).
var beginCall = regexp.MustCompile(`\.Begin(Tx)?\(`)

// TestOneUnitOfWork: only the unit of work (internal/postgres/uow.go) begins transactions, so none can
// exist without its after-commit actions.
func TestOneUnitOfWork(t *testing.T) {
	const allowed = "internal/postgres/uow.go"
	found := false
	for _, p := range goList(t) {
		for _, f := range p.GoFiles {
			path := filepath.Join(p.Dir, f)
			rel := local(p.ImportPath) + "/" + f
			file, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			sc := bufio.NewScanner(file)
			for n := 1; sc.Scan(); n++ {
				line := strings.TrimSpace(sc.Text())
				if strings.HasPrefix(line, "//") || !beginCall.MatchString(line) || strings.HasPrefix(rel, "gen/") {
					continue
				}
				if rel == allowed {
					found = true
					continue
				}
				t.Errorf("rule %q: %s:%d begins a transaction: %s", "only the unit of work begins transactions", rel, n, line)
			}
			file.Close()
		}
	}
	if !found {
		t.Errorf("%s no longer begins transactions: update this test", allowed)
	}
}
