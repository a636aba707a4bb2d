package edge

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/storefront/storefront/internal/idempotency"
)

// stubTx is a unit of work that only records whether its work was rolled back.
type stubTx struct{ rolledBack bool }

func (t *stubTx) InTx(ctx context.Context, fn func(context.Context) error) error {
	err := fn(ctx)
	t.rolledBack = err != nil
	return err
}

type stubStore struct{}

func (s *stubStore) Claim(context.Context, string, string, []byte) (idempotency.Claim, error) {
	return idempotency.Claim{}, nil
}
func (s *stubStore) Complete(context.Context, string, string, []byte, idempotency.Response) error {
	panic("a failed request must not be stored")
}
func (s *stubStore) DeleteExpired(context.Context) (int64, error) { return 0, nil }

// A panic in a handler under an Idempotency-Key still answers 500 in the error shape, and rolls back.
func TestPanicUnderIdempotencyKey(t *testing.T) {
	ct, err := loadContract()
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	store, tx := &stubStore{}, &stubTx{}
	e := echo.New()
	e.HTTPErrorHandler = errorHandler(logger)
	e.Use(withRequestID, accessLog(logger), recoverPanics(logger), idempotent(ct, store, tx, func() {}))
	e.POST("/v1/categories", func(echo.Context) error { panic("boom") })

	req := httptest.NewRequest(http.MethodPost, "/v1/categories", strings.NewReader(`{"name":"x"}`))
	req.Header.Set("Idempotency-Key", "k1")
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, req)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), `"code":"INTERNAL"`) || strings.Contains(rec.Body.String(), "boom") {
		t.Fatalf("status %d body %q", rec.Code, rec.Body.String())
	}
	if !tx.rolledBack {
		t.Fatal("transaction not rolled back")
	}
}
