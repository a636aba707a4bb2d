package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/app"
	"github.com/storefront/storefront/internal/config"
	"github.com/storefront/storefront/internal/httpapi/edge"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/telemetry"
)

// IsolationEnv names the variable that runs every testenv.Start at an isolation level
// (DATABASE_ISOLATION), e.g. the whole API suite at serializable, as a distributed engine runs.
const IsolationEnv = "TEST_DATABASE_ISOLATION"

// Secret signs the tests' access tokens.
const Secret = "test-secret-test-secret-test-secret-0123"

// cheapArgon2 keeps password hashing fast under the race detector; the real cost is tested in identity.
var cheapArgon2 = identity.Argon2Params{MemoryKiB: 1024, Iterations: 1, Parallelism: 1}

// Env is one running service with its own database.
type Env struct {
	t      testing.TB
	URL    string
	App    *app.App
	Client *apiclient.ClientWithResponses
	HTTP   *http.Client
	logs   *SyncBuffer
}

// Start runs the full stack on a fresh database. extraEnv overrides configuration.
func Start(t testing.TB, extraEnv ...string) *Env {
	t.Helper()
	return StartWith(t, app.Options{}, extraEnv...)
}

// StartWith is Start with app options (the test Argon2 cost is always used).
func StartWith(t testing.TB, opts app.Options, extraEnv ...string) *Env {
	t.Helper()
	vars := map[string]string{"JWT_SECRET": Secret, "LOG_LEVEL": "debug"}
	for _, kv := range extraEnv {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	if vars["DATABASE_URL"] == "" {
		vars["DATABASE_URL"] = NewDatabase(t)
	}
	throughPooler(vars)
	if iso := os.Getenv(IsolationEnv); iso != "" && vars["DATABASE_ISOLATION"] == "" {
		vars["DATABASE_ISOLATION"] = iso
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	logs := &SyncBuffer{}
	logger := slog.New(telemetry.LogHandler{Handler: slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: cfg.LogLevel})})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts.Argon2 = &cheapArgon2
	a, err := app.New(ctx, cfg, logger, opts)
	if err != nil {
		t.Fatal(err)
	}
	// As cmd/storefront serves: behind the edge's framing guard.
	srv := httptest.NewUnstartedServer(a.Handler)
	srv.Listener = edge.Guard(srv.Config, srv.Listener)
	srv.Start()
	t.Cleanup(func() {
		srv.Close()
		a.Close()
		if t.Failed() {
			t.Logf("service log:\n%s", logs.String())
		}
	})
	hc := &http.Client{Transport: newSpecCheckingTransport(t, srv.URL), Timeout: 30 * time.Second}
	client, err := apiclient.NewClientWithResponses(srv.URL, apiclient.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	return &Env{t: t, URL: srv.URL, App: a, Client: client, HTTP: hc, logs: logs}
}

// DatabaseURL is the database this instance runs on; pass it to a second Start to share it.
func (e *Env) DatabaseURL() string { return e.App.Config.DatabaseURL }

// RedisEnv configures the test Redis with a key prefix of the test's own, so tests never share keys.
func RedisEnv(t testing.TB) []string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return []string{"REDIS_URL=" + RedisURL(), "REDIS_KEY_PREFIX=test:" + hex.EncodeToString(b) + ":"}
}

// Logs is everything the service logged so far.
func (e *Env) Logs() string { return e.logs.String() }

// Bearer authorizes a request with the token.
func Bearer(token string) apiclient.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set("Authorization", "Bearer "+token)
		return nil
	}
}

// Header sets a request header.
func Header(name, value string) apiclient.RequestEditorFn {
	return func(_ context.Context, req *http.Request) error {
		req.Header.Set(name, value)
		return nil
	}
}

// Register creates a user through the API and returns it.
func (e *Env) Register(email, password, name string) apiclient.User {
	e.t.Helper()
	resp, err := e.Client.RegisterUserWithResponse(context.Background(), nil, apiclient.RegisterUserJSONRequestBody{
		Email: apiclient.Email(email), Password: password, Name: name,
	})
	if err != nil || resp.JSON201 == nil {
		e.t.Fatalf("registering %s: %v %d %s", email, err, statusOf(resp), bodyOf(resp))
	}
	return resp.JSON201.Data
}

// Login signs in and returns the token pair.
func (e *Env) Login(email, password string) apiclient.TokenPair {
	e.t.Helper()
	resp, err := e.Client.LoginWithResponse(context.Background(), apiclient.LoginJSONRequestBody{
		Email: apiclient.Email(email), Password: password,
	})
	if err != nil || resp.JSON200 == nil {
		e.t.Fatalf("login %s: %v %d %s", email, err, statusOf(resp), bodyOf(resp))
	}
	return resp.JSON200.Data
}

// Admin makes an admin account (through the same path as `storefront create-admin`) and signs it in.
func (e *Env) Admin(email string) (apiclient.User, string) {
	e.t.Helper()
	u, err := e.App.Identity.EnsureUser(context.Background(), identity.Registration{
		Email: email, Password: "admin-password", Name: "Admin", Role: identity.RoleAdmin,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	tokens := e.Login(email, "admin-password")
	return apiclient.User{Id: u.ID, Email: apiclient.Email(u.Email), Name: u.Name, Role: apiclient.Role(u.Role)}, tokens.AccessToken
}

// Customer registers a customer and signs it in.
func (e *Env) Customer(email string) (apiclient.User, string) {
	e.t.Helper()
	u := e.Register(email, "customer-password", "Customer "+email)
	return u, e.Login(email, "customer-password").AccessToken
}

type responder interface{ StatusCode() int }

func statusOf(r responder) int {
	if r == nil {
		return 0
	}
	return r.StatusCode()
}

func bodyOf(r any) string {
	b, _ := json.Marshal(r)
	return string(b)
}

func decodeJSON(b []byte) (any, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return jsonNumbersToFloat(v), nil
}

func jsonNumbersToFloat(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = jsonNumbersToFloat(e)
		}
	case []any:
		for i, e := range x {
			x[i] = jsonNumbersToFloat(e)
		}
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return v
}

// SyncBuffer is a bytes.Buffer safe for a server writing logs while a test reads them.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Customers registers n customers directly through the service and returns their ids and access
// tokens, for tests that need many callers quickly.
func (e *Env) Customers(n int, prefix string) ([]uuid.UUID, []string) {
	e.t.Helper()
	ids, tokens := make([]uuid.UUID, n), make([]string, n)
	for i := range n {
		u, err := e.App.Identity.Register(context.Background(), identity.Registration{
			Email: fmt.Sprintf("%s%d@example.com", prefix, i), Password: "customer-password", Name: "Customer"})
		if err != nil {
			e.t.Fatal(err)
		}
		tok, err := e.App.Identity.Tokens().Issue(u.ID, u.Role.Scopes())
		if err != nil {
			e.t.Fatal(err)
		}
		ids[i], tokens[i] = u.ID, tok
	}
	return ids, tokens
}
