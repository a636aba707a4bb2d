package testenv

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// The load generator reads every response framing the server may use, pipelined or not, and keeps the
// connection in step (a misread body would show as a bad status line on the next response).
func TestLoadConnReadsEveryFraming(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/length":
			_, _ = w.Write([]byte(`{"data":1}`))
		case "/chunked":
			w.Header().Set("Trailer", "X-Sum")
			for i := 0; i < 3; i++ {
				_, _ = w.Write(make([]byte, 5000))
				w.(http.Flusher).Flush()
			}
			w.Header().Set("X-Sum", "15000")
		case "/not-modified":
			w.Header().Set("ETag", `"1"`)
			w.WriteHeader(http.StatusNotModified)
		}
	}))
	defer srv.Close()
	for path, want := range map[string]int{"/length": 200, "/chunked": 200, "/not-modified": 304} {
		c, err := DialLoad(srv.URL, path)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 8, 1} {
			if status, err := c.Get(n, want); err != nil || status != want {
				t.Fatalf("%s ×%d: %d %v", path, n, status, err)
			}
		}
		c.Close()
	}
}
