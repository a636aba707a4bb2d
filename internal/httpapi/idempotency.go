package httpapi

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/labstack/echo/v4"

	"github.com/storefront/storefront/internal/aftercommit"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/idempotency"
	"github.com/storefront/storefront/internal/identity"
)

const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
	canonicalBodyKey     = "canonical_body"
)

// replayedHeaders are the response headers stored with a response and sent again on replay.
var replayedHeaders = []string{echo.HeaderContentType, echo.HeaderLocation, "ETag", echo.HeaderCacheControl}

var (
	errKeyReused  = apperr.Coded(apperr.KindUnprocessable, "IDEMPOTENCY_KEY_REUSED", "This Idempotency-Key was used with a different request.")
	errInProgress = apperr.Coded(apperr.KindConflict, "REQUEST_IN_PROGRESS", "A request with this Idempotency-Key is still being processed; retry later.")
)

// idempotent honours Idempotency-Key on the operations whose spec declares it. The key is claimed, the
// work done and the response stored in one transaction, so a crash can never leave the work without its
// key or a key without its work; while the transaction runs it holds the key, and a concurrent request
// with the same key gets 409. Responses of 500 and above are not kept, so a retry runs again.
func idempotent(ct *contract, store idempotency.Store, replayed func()) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			op := ct.lookup(c)
			key := c.Request().Header.Get(headerIdempotencyKey)
			if op == nil || !op.idempotent || key == "" {
				return next(c)
			}
			req := c.Request()
			// Ending the transaction must not depend on the client still being there.
			endCtx := context.WithoutCancel(req.Context())
			scope, fp := idempotencyScope(c), fingerprint(c)
			txCtx, tx, err := store.Begin(req.Context())
			if err != nil {
				return err
			}
			// Cache invalidations wait for this transaction's commit.
			txCtx, hooks := aftercommit.With(txCtx)
			defer func() { _ = tx.Rollback(endCtx) }() // a no-op after Commit
			claim, err := store.Claim(txCtx, scope, key, fp)
			switch {
			case err != nil:
				return err
			case claim.InProgress:
				return errInProgress
			case claim.Mismatch:
				return errKeyReused
			case claim.Replay != nil:
				replayed()
				return replay(c, claim.Replay)
			}

			resp := c.Response()
			buf := &bufferedWriter{header: resp.Header()}
			real := resp.Writer
			resp.Writer = buf
			c.SetRequest(req.WithContext(txCtx))
			restore := func() {
				resp.Writer = real
				c.SetRequest(req)
			}
			if err := runRecovering(c, next); err != nil {
				c.Error(err)
			}
			restore()
			if buf.status >= http.StatusInternalServerError {
				// Roll back before answering, so an immediate retry does not find the key still held.
				_ = tx.Rollback(endCtx)
				return buf.flush(real)
			}

			stored := idempotency.Response{Status: buf.status, Header: map[string]string{}, Body: buf.body.Bytes()}
			for _, h := range replayedHeaders {
				if v := resp.Header().Get(h); v != "" {
					stored.Header[h] = v
				}
			}
			err = store.Complete(txCtx, scope, key, fp, stored)
			if err == nil {
				err = tx.Commit(endCtx)
			}
			if err == nil {
				hooks.Run()
			} else {
				hooks.Abandon() // the COMMIT may have been applied all the same
			}
			if err != nil {
				for _, h := range replayedHeaders {
					resp.Header().Del(h)
				}
				resp.Committed, resp.Status, resp.Size = false, 0, 0
				return apperr.Internal(errors.Join(errors.New("storing idempotent response"), err))
			}
			return buf.flush(real)
		}
	}
}

// runRecovering runs next and turns a panic into an error, so the 500 is rendered into the buffer this
// middleware flushes (a panic unwinding past it would leave the client an empty response).
func runRecovering(c echo.Context, next echo.HandlerFunc) (err error) {
	defer func() {
		if r := recover(); r != nil {
			if r == http.ErrAbortHandler {
				panic(r)
			}
			err = apperr.Internal(fmt.Errorf("panic: %v\n%s", r, debug.Stack()))
		}
	}()
	return next(c)
}

// idempotencyScope keeps keys per caller: the user, or the client address for anonymous calls.
func idempotencyScope(c echo.Context) string {
	if p, ok := identity.PrincipalFrom(c.Request().Context()); ok {
		return "user:" + p.UserID.String()
	}
	return "ip:" + c.RealIP()
}

// fingerprint identifies the request a key was first used with: method, path, query and canonical body.
func fingerprint(c echo.Context) []byte {
	h := sha256.New()
	u := c.Request().URL
	h.Write([]byte(c.Request().Method + " " + u.Path + "?" + u.RawQuery + "\n"))
	if b, ok := c.Get(canonicalBodyKey).([]byte); ok {
		h.Write(b)
	}
	return h.Sum(nil)
}

func replay(c echo.Context, r *idempotency.Response) error {
	h := c.Response().Header()
	for k, v := range r.Header {
		h.Set(k, v)
	}
	h.Set(headerReplayed, "true")
	c.Response().WriteHeader(r.Status)
	_, err := c.Response().Write(r.Body)
	return err
}

// bufferedWriter holds a response until its fate (stored or not) is decided. Headers go straight to
// the real response's header map.
type bufferedWriter struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedWriter) Header() http.Header { return b.header }

func (b *bufferedWriter) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedWriter) Write(p []byte) (int, error) {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	return b.body.Write(p)
}

func (b *bufferedWriter) flush(w http.ResponseWriter) error {
	if b.status == 0 {
		b.status = http.StatusOK
	}
	w.WriteHeader(b.status)
	_, err := w.Write(b.body.Bytes())
	return err
}
