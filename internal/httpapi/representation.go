package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/catalog"
	"github.com/storefront/storefront/internal/etag"
)

// bodyMemo remembers encoded response bodies by resource version. Every write to a product row bumps
// its version (the update, the soft delete, stock taken or given back by orders), so a product's ID and
// version name exactly one representation, and a hot product need not be encoded again on every read.
type bodyMemo struct {
	mu sync.RWMutex
	m  map[bodyKey][]byte
}

type bodyKey struct {
	id      uuid.UUID
	version int64
}

// maxBodies and maxBodyBytes bound the memo to about 40 MB; past maxBodies it starts over.
const (
	maxBodies    = 10000
	maxBodyBytes = 4 << 10
)

func newBodyMemo() *bodyMemo { return &bodyMemo{m: map[bodyKey][]byte{}} }

// get returns the memoized body for (id, version), or encodes v as the generated code does
// (json.Encoder, with its trailing newline) and remembers it. Bodies handed out are shared: only write them.
func (m *bodyMemo) get(id uuid.UUID, version int64, v func() any) ([]byte, error) {
	k := bodyKey{id, version}
	m.mu.RLock()
	b, ok := m.m[k]
	m.mu.RUnlock()
	if ok {
		return b, nil
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v()); err != nil {
		return nil, err
	}
	if buf.Len() > maxBodyBytes {
		return buf.Bytes(), nil // long descriptions and attributes: encode each time rather than hold them
	}
	b = bytes.Clone(buf.Bytes())
	m.mu.Lock()
	if len(m.m) >= maxBodies {
		clear(m.m)
	}
	m.m[k] = b
	m.mu.Unlock()
	return b, nil
}

// productOKBody is GetProduct's 200 with its body already encoded. It writes what the generated
// GetProduct200JSONResponse writes for the same product (TestProductBodyMatchesGenerated).
type productOKBody struct {
	body    []byte
	headers api.ProductOKResponseHeaders
}

var _ api.GetProductResponseObject = productOKBody{}

func (r productOKBody) VisitGetProductResponse(w http.ResponseWriter) error {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", r.headers.CacheControl)
	h.Set("ETag", r.headers.ETag)
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(r.body)
	return err
}

// productOKMemo answers a product read from the memo.
func (s *Server) productOKMemo(p catalog.Product, cache string) (api.GetProductResponseObject, error) {
	body, err := s.bodies.get(p.ID, p.Version, func() any { return api.ProductResponse{Data: toAPIProduct(p)} })
	if err != nil {
		return nil, err
	}
	return productOKBody{body: body, headers: api.ProductOKResponseHeaders{ETag: etag.Format(p.Version), CacheControl: cache}}, nil
}
