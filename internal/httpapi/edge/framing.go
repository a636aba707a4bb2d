package edge

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/storefront/storefront/internal/apperr"
)

// A request with both Content-Length and Transfer-Encoding is ambiguous (RFC 9112 §6.3): a proxy in
// front may frame it by one header and this server by the other, which is how requests are smuggled.
// net/http reads such a request as chunked and drops Content-Length before any handler sees it, so the
// edge watches the raw bytes instead: Guard wraps the listener, and each connection records the framing
// headers of every request head that passes through it. refuseAmbiguousFraming answers such a request
// 400 and closes the connection.

// Guard wraps ln so the edge can see each request's framing headers; it sets srv.ConnContext (keeping
// one already set). Serve srv on the returned listener.
func Guard(srv *http.Server, ln net.Listener) net.Listener {
	prev := srv.ConnContext
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if prev != nil {
			ctx = prev(ctx, c)
		}
		if fc, ok := c.(*framedConn); ok {
			ctx = context.WithValue(ctx, framingKey{}, fc.framing)
		}
		return ctx
	}
	return guardedListener{ln}
}

type guardedListener struct{ net.Listener }

func (l guardedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &framedConn{Conn: c, framing: &framing{}}, nil
}

type framedConn struct {
	net.Conn
	framing *framing
}

func (c *framedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.framing.feed(p[:n])
	}
	return n, err
}

type framingKey struct{}

// head is what the edge needs to know of one request head.
type head struct {
	line       string // the request line: method, target, version
	cl, te     bool   // Content-Length and Transfer-Encoding were sent
	ambiguous  bool   // both were
	clValue    int64
	chunkedEnd bool // the last transfer coding is chunked
}

// maxHeadBytes bounds what one request head may take; net/http refuses larger heads anyway.
const maxHeadBytes = 1 << 20

// framing follows the HTTP/1.1 message framing of the bytes read from one connection: request heads,
// then bodies by Content-Length or chunked coding, so it always knows where the next head starts. It
// only observes; when it cannot follow (bytes net/http would refuse too), it stops.
type framing struct {
	mu    sync.Mutex
	heads []head // heads read whose request has not been served yet, oldest first

	state  int
	line   []byte // the line being read
	cur    head
	inHead bool  // a request line was read: header fields follow
	remain int64 // body bytes (or chunk bytes) still to skip
	lost   bool  // the bytes could not be followed: nothing more is recorded
}

const (
	stHead = iota
	stBody
	stChunkSize
	stChunkData
	stChunkDataEnd
	stTrailer
)

func (f *framing) feed(p []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for len(p) > 0 && !f.lost {
		switch f.state {
		case stBody, stChunkData:
			n := min(int64(len(p)), f.remain)
			f.remain -= n
			p = p[n:]
			if f.remain == 0 {
				if f.state == stBody {
					f.state = stHead
				} else {
					f.state = stChunkDataEnd
				}
			}
			continue
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			f.line = append(f.line, p...)
			if len(f.line) > maxHeadBytes {
				f.lost = true
			}
			return
		}
		f.line = append(f.line, p[:i]...)
		p = p[i+1:]
		line := bytes.TrimSuffix(f.line, []byte("\r"))
		f.onLine(line)
		f.line = f.line[:0]
	}
}

// onLine handles one line of a head, a chunk size, a chunk's end or a trailer.
func (f *framing) onLine(line []byte) {
	switch f.state {
	case stHead:
		switch {
		case !f.inHead && len(line) == 0: // empty lines before a request line are allowed
		case !f.inHead:
			f.cur, f.inHead = head{line: string(line)}, true
		case len(line) == 0:
			f.endHead()
		default:
			f.field(line)
		}
	case stChunkSize:
		size := line
		if i := bytes.IndexByte(size, ';'); i >= 0 {
			size = size[:i]
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		switch {
		case err != nil || n < 0:
			f.lost = true
		case n == 0:
			f.state = stTrailer
		default:
			f.state, f.remain = stChunkData, n
		}
	case stChunkDataEnd:
		if len(line) != 0 {
			f.lost = true
		}
		f.state = stChunkSize
	case stTrailer:
		if len(line) == 0 {
			f.state = stHead
		}
	}
}

var headerContentLength, headerTransferEncoding = []byte("Content-Length"), []byte("Transfer-Encoding")

func (f *framing) field(line []byte) {
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok || len(name) == 0 || name[0] == ' ' || name[0] == '\t' {
		return // a continuation or a malformed line: net/http decides
	}
	switch name = bytes.TrimSpace(name); {
	case bytes.EqualFold(name, headerContentLength):
		f.cur.cl = true
		if n, err := strconv.ParseInt(string(bytes.TrimSpace(value)), 10, 64); err == nil {
			f.cur.clValue = n
		}
	case bytes.EqualFold(name, headerTransferEncoding):
		f.cur.te = true
		codings := bytes.Split(value, []byte(","))
		f.cur.chunkedEnd = bytes.EqualFold(bytes.TrimSpace(codings[len(codings)-1]), []byte("chunked"))
	}
}

func (f *framing) endHead() {
	h := f.cur
	h.ambiguous = h.cl && h.te
	f.heads = append(f.heads, h)
	if len(f.heads) > 64 { // never served (net/http answered them itself): forget the oldest
		f.heads = f.heads[1:]
	}
	f.inHead = false
	switch {
	case h.te && h.chunkedEnd:
		f.state = stChunkSize
	case h.te:
		f.lost = true // net/http refuses it and closes the connection
	case h.clValue > 0:
		f.state, f.remain = stBody, h.clValue
	default:
		f.state = stHead
	}
}

// served returns the head of the request with this request line, dropping older heads that were
// never served (net/http answers some requests itself, such as OPTIONS *).
func (f *framing) served(line string) (head, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, h := range f.heads {
		if h.line == line {
			f.heads = f.heads[i+1:]
			return h, true
		}
	}
	return head{}, false
}

var errAmbiguousFraming = apperr.InvalidField("Content-Length", "must not be sent together with Transfer-Encoding")

// refuseAmbiguousFraming answers a request whose head carried both Content-Length and
// Transfer-Encoding with 400, and closes the connection: what follows on it cannot be trusted.
func refuseAmbiguousFraming(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		f, ok := req.Context().Value(framingKey{}).(*framing)
		if !ok || req.ProtoMajor != 1 {
			return next(c)
		}
		h, found := f.served(req.Method + " " + req.RequestURI + " " + req.Proto)
		if found && h.ambiguous {
			c.Response().Header().Set(echo.HeaderConnection, "close")
			req.Close = true
			return errAmbiguousFraming
		}
		return next(c)
	}
}
