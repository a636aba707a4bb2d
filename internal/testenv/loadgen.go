package testenv

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// LoadConn is a minimal HTTP/1.1 keep-alive client for benchmarks, in the manner of wrk: it writes a
// prepared request and reads the status line, the headers it needs and the body, and nothing more, so
// that a benchmark's load generator takes as little of the machine's CPU as it can and the measurement
// is of the server.
type LoadConn struct {
	conn  net.Conn
	r     *bufio.Reader
	req   []byte
	batch []byte
}

// DialLoad opens a connection to baseURL's host for GET requests of path with the given headers.
func DialLoad(baseURL, path string, headers ...string) (*LoadConn, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return nil, err
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		return nil, err
	}
	var req bytes.Buffer
	fmt.Fprintf(&req, "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: storefront-bench\r\nAccept: application/json\r\n", path, u.Host)
	for i := 0; i+1 < len(headers); i += 2 {
		fmt.Fprintf(&req, "%s: %s\r\n", headers[i], headers[i+1])
	}
	req.WriteString("\r\n")
	return &LoadConn{conn: conn, r: bufio.NewReaderSize(conn, 16<<10), req: req.Bytes()}, nil
}

// Get sends the request n times in one write (HTTP/1.1 pipelining when n > 1) and reads the n
// responses; it returns the first status that is not want, or want.
func (l *LoadConn) Get(n, want int) (int, error) {
	if len(l.batch) != n*len(l.req) {
		l.batch = bytes.Repeat(l.req, n)
	}
	if err := l.conn.SetDeadline(time.Now().Add(loadTimeout)); err != nil {
		return 0, err
	}
	if _, err := l.conn.Write(l.batch); err != nil {
		return 0, err
	}
	status := want
	for range n {
		s, err := l.read()
		if err != nil {
			return s, err
		}
		if s != want {
			status = s
		}
	}
	return status, nil
}

// read reads one final response (skipping interim 1xx ones) and returns its status code.
func (l *LoadConn) read() (int, error) {
	for {
		status, err := l.readOne()
		if err != nil || status >= 200 || status == http.StatusSwitchingProtocols {
			return status, err
		}
	}
}

// readOne reads one response, interim or final, and returns its status code.
func (l *LoadConn) readOne() (int, error) {
	line, err := l.r.ReadSlice('\n')
	if err != nil {
		return 0, err
	}
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.1 ")) {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	status, err := strconv.Atoi(string(line[9:12]))
	if err != nil {
		return 0, fmt.Errorf("bad status line %q", line)
	}
	length, chunked := -1, false
	for {
		line, err := l.r.ReadSlice('\n')
		if err != nil {
			return 0, err
		}
		if len(line) <= 2 {
			break
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return 0, fmt.Errorf("bad header %q", line)
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Content-Length")):
			if length, err = strconv.Atoi(string(value)); err != nil {
				return 0, fmt.Errorf("bad Content-Length %q", value)
			}
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			codings := bytes.Split(value, []byte(","))
			chunked = bytes.EqualFold(bytes.TrimSpace(codings[len(codings)-1]), []byte("chunked"))
		}
	}
	switch {
	case status < 200 || status == http.StatusNoContent || status == http.StatusNotModified:
		return status, nil // no body, whatever the headers say
	case chunked:
		return status, l.discardChunks()
	case length >= 0:
		_, err = l.r.Discard(length)
		return status, err
	}
	return 0, errors.New("response without a length: the connection cannot be reused")
}

func (l *LoadConn) discardChunks() error {
	for {
		line, err := l.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		sizeText, _, _ := bytes.Cut(line, []byte(";")) // chunk extensions
		size, err := strconv.ParseInt(string(bytes.TrimSpace(sizeText)), 16, 64)
		if err != nil {
			return fmt.Errorf("bad chunk size %q", line)
		}
		if size == 0 {
			break
		}
		if _, err := l.r.Discard(int(size) + 2); err != nil { // the chunk and its CRLF
			return err
		}
	}
	for { // trailers, up to the empty line
		line, err := l.r.ReadSlice('\n')
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(line)) == 0 {
			return nil
		}
	}
}

// loadTimeout bounds one round trip, so a stuck server fails the benchmark rather than hanging it.
const loadTimeout = 30 * time.Second

// Close closes the connection.
func (l *LoadConn) Close() error { return l.conn.Close() }

var _ io.Closer = (*LoadConn)(nil)
