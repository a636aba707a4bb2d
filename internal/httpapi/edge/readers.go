package edge

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/uow"
)

// readers tells the unit of work who is calling and whether the request's reads may lag (with read
// replicas): a GET may be answered by a replica, except for what its caller wrote (the unit of work
// remembers each signed-in caller's last write); any other method reads and writes the primary.
// It runs after authentication, which therefore always checks accounts on the primary (or its cache).
func readers(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		r := &uow.Reader{MayLag: req.Method == http.MethodGet || req.Method == http.MethodHead}
		if p, ok := access.PrincipalFrom(req.Context()); ok {
			r.Caller = "user:" + p.UserID.String()
		}
		c.SetRequest(req.WithContext(uow.WithReader(req.Context(), r)))
		return next(c)
	}
}
