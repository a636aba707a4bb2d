package edge

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"runtime/debug"

	"github.com/labstack/echo/v4"

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/idempotency"
	"github.com/storefront/storefront/internal/uow"
)

const (
	headerIdempotencyKey = "Idempotency-Key"
	headerReplayed       = "Idempotent-Replayed"
	canonicalBodyKey     = "canonical_body"
)

// replayedHeaders are the response headers stored with a response and sent again on replay.
var replayedHeaders = []string{echo.HeaderContentType, echo.HeaderLocation, "ETag", echo.HeaderCacheControl}

var (
	errKeyReused  = apperr.Coded(apperr.KindUnprocessable, apperr.CodeIdempotencyKeyReused, "This Idempotency-Key was used with a different request.")
	errInProgress = apperr.Coded(apperr.KindConflict, apperr.CodeRequestInProgress, "A request with this Idempotency-Key is still being processed; retry later.")
)

// idempotent honours Idempotency-Key on the operations whose spec declares it. The key is claimed, the
// work done and the response stored in one unit of work, so a crash can never leave the work without
// its key or a key without its work; while the unit runs it holds the key, and a concurrent request
// with the same key gets 409. Responses of 500 and above are not kept (the unit rolls back before the
// answer is sent, so an immediate retry finds the key free and runs again).
func idempotent(ct *contract, store idempotency.Store, tx uow.Runner, replayed func()) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			op := ct.lookup(c)
			key := c.Request().Header.Get(headerIdempotencyKey)
			if op == nil || !op.idempotent || key == "" {
				return next(c)
			}
			req, resp := c.Request(), c.Response()
			scope, fp := idempotencyScope(c), fingerprint(c)
			real := resp.Writer
			before, status := resp.Header().Clone(), resp.Status
			restart := func() {
				resetHeader(resp.Header(), before)
				resp.Committed, resp.Status, resp.Size = false, status, 0
			}
			var buf *bufferedWriter
			var earlier *idempotency.Response
			ran := false
			// The unit of work runs this function again when the transaction loses to a concurrent one
			// (a serialization failure, at the handler's statements or at COMMIT): each attempt starts
			// from the response as it was before the first, with an empty buffer.
			err := tx.InTx(req.Context(), func(ctx context.Context) error {
				restart()
				buf, earlier, ran = &bufferedWriter{header: resp.Header()}, nil, false
				claim, err := store.Claim(ctx, scope, key, fp)
				switch {
				case err != nil:
					return err
				case claim.InProgress:
					return errInProgress
				case claim.Mismatch:
					return errKeyReused
				case claim.Replay != nil:
					earlier = claim.Replay
					return nil
				}
				ran = true
				resp.Writer = buf
				c.SetRequest(req.WithContext(ctx))
				err = runRecovering(c, next)
				resp.Writer = real
				c.SetRequest(req)
				if apperr.IsTransient(err) {
					ran = false // this attempt's answer is void; the unit runs again or answers err
					return err
				}
				if err != nil {
					resp.Writer = buf
					c.Error(err)
					resp.Writer = real
				}
				if buf.status >= http.StatusInternalServerError {
					return errNotKept
				}
				stored := idempotency.Response{Status: buf.status, Header: map[string]string{}, Body: buf.body.Bytes()}
				for _, h := range replayedHeaders {
					if v := resp.Header().Get(h); v != "" {
						stored.Header[h] = v
					}
				}
				return store.Complete(ctx, scope, key, fp, stored)
			})
			if !ran {
				restart()
			}
			switch {
			case err == nil && earlier != nil:
				replayed()
				return replay(c, earlier)
			case err == nil, errors.Is(err, errNotKept):
				return buf.flush(real)
			case !ran:
				return err
			}
			// The handler answered but its answer could not be kept: what it wrote is void.
			for _, h := range replayedHeaders {
				resp.Header().Del(h)
			}
			resp.Committed, resp.Status, resp.Size = false, 0, 0
			// An outage, or a transaction that kept losing to concurrent ones (at COMMIT, after the
			// unit's retries): the caller may retry with the same key.
			if apperr.IsKind(err, apperr.KindUnavailable) || apperr.IsTransient(err) {
				return err
			}
			return apperr.Internal(errors.Join(errors.New("storing idempotent response"), err))
		}
	}
}

// resetHeader makes h what it was (before).
func resetHeader(h, before http.Header) {
	clear(h)
	for k, v := range before {
		h[k] = v
	}
}

// errNotKept rolls back the unit of a response that is not stored (a 500 or above).
var errNotKept = errors.New("response not kept")

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
	if p, ok := access.PrincipalFrom(c.Request().Context()); ok {
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
