package httpapi_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/testenv"
)

// rawCall sends a request as written (through the spec-checking transport) and returns the status and
// the decoded error body, if any.
func rawCall(t *testing.T, env *testenv.Env, method, path, token, body string) (int, apiclient.ErrorBody) {
	t.Helper()
	req, err := http.NewRequest(method, env.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if method == http.MethodPost && (strings.HasPrefix(path, "/v1/orders")) {
		req.Header.Set("Idempotency-Key", uuid.NewString())
	}
	resp, err := env.HTTP.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var e apiclient.Error
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(b, &e); err != nil {
			t.Fatalf("%s %s: %d with a body that is not the error shape: %s", method, path, resp.StatusCode, b)
		}
	}
	return resp.StatusCode, e.Error
}

func wantInvalid(t *testing.T, status int, e apiclient.ErrorBody, field string) {
	t.Helper()
	if status != http.StatusBadRequest || e.Code != "VALIDATION_ERROR" {
		t.Fatalf("status %d code %s, want 400 VALIDATION_ERROR", status, e.Code)
	}
	if e.Details == nil {
		t.Fatalf("no details naming %q: %+v", field, e)
	}
	for _, d := range *e.Details {
		if d.Field == field {
			for _, internal := range []string{"Unmarshal", "offset=", "expected=", "SQLSTATE", "pgx", "unicode"} {
				if strings.Contains(d.Message+e.Message, internal) {
					t.Fatalf("the answer leaks %q: %+v", internal, e)
				}
			}
			return
		}
	}
	t.Fatalf("details do not name %q: %+v", field, *e.Details)
}

// hardeningFixture is a shop with one of everything, for requests that must get past 404.
type hardeningFixture struct {
	env                                 *testenv.Env
	admin, customer                     string
	customerID, category, product, post uuid.UUID
	order                               uuid.UUID
}

func newHardeningFixture(t *testing.T, extraEnv ...string) hardeningFixture {
	t.Helper()
	env := testenv.Start(t, extraEnv...)
	ctx := context.Background()
	_, admin := env.Admin("hard-admin@example.com")
	cu, customer := env.Customer("hard-customer@example.com")
	f := hardeningFixture{env: env, admin: admin, customer: customer, customerID: cu.Id}
	cf := catalogFixture{env, admin}
	f.category = cf.category(t, "Hard").Id
	f.product = cf.product(t, apiclient.ProductCreate{Name: "Hard Tea", PriceCents: 1500, Stock: 50}).Id
	pr, err := env.Client.CreatePostWithResponse(ctx, cu.Id, nil, apiclient.PostCreate{Title: "Hard", Body: "Post",
		Status: ptr(apiclient.PostStatus("draft"))}, testenv.Bearer(customer))
	wantStatus(t, pr, pr.Body, err, http.StatusCreated)
	f.post = pr.JSON201.Data.Id
	pub, err := env.Client.UpdatePostWithResponse(ctx, f.post, nil, apiclient.PostPatch{Status: ptr(apiclient.PostStatus("published"))}, testenv.Bearer(admin))
	wantStatus(t, pub, pub.Body, err, http.StatusOK)
	o, err := env.Client.CreateOrderWithResponse(ctx, key(), apiclient.OrderCreate{Items: []apiclient.OrderItemCreate{{ProductId: f.product, Quantity: 1}},
		ShippingAddress: address}, testenv.Bearer(customer))
	wantStatus(t, o, o.Body, err, http.StatusCreated)
	f.order = o.JSON201.Data.Id
	return f
}

// NUL bytes and invalid UTF-8 reach no SQL: every text field and parameter answers 400 naming it.
func TestTextRule(t *testing.T) {
	f := newHardeningFixture(t)
	addr := `{"name":"A","line1":"B","city":"C","postal_code":"D","country":"GB"}`
	order := func(field, value string) string {
		a := strings.Replace(addr, `"`+field+`":"`+map[string]string{"name": "A", "line1": "B", "city": "C", "postal_code": "D"}[field]+`"`, `"`+field+`":`+value, 1)
		return fmt.Sprintf(`{"items":[{"product_id":%q,"quantity":1}],"shipping_address":%s}`, f.product, a)
	}
	for _, bad := range []struct{ name, literal string }{{"NUL", `"a\u0000b"`}, {"control", `"a\u0007b"`}, {"invalid UTF-8", "\"a\xff\xfeb\""}, {"broken sequence", "\"a\xc3\x28b\""}} {
		t.Run(bad.name, func(t *testing.T) {
			v := bad.literal
			cases := []struct {
				method, path, token, body, field string
			}{
				{"POST", "/v1/users", "", `{"email":"x@example.com","password":"long-enough","name":` + v + `}`, "name"},
				{"PATCH", "/v1/users/" + f.customerID.String(), f.customer, `{"name":` + v + `}`, "name"},
				{"POST", "/v1/users/" + f.customerID.String() + "/posts", f.customer, `{"title":` + v + `,"body":"b"}`, "title"},
				{"POST", "/v1/users/" + f.customerID.String() + "/posts", f.customer, `{"title":"t","body":` + v + `}`, "body"},
				{"POST", "/v1/posts/" + f.post.String() + "/comments", f.customer, `{"body":` + v + `}`, "body"},
				{"POST", "/v1/categories", f.admin, `{"name":` + v + `}`, "name"},
				{"PATCH", "/v1/categories/" + f.category.String(), f.admin, `{"description":` + v + `}`, "description"},
				{"POST", "/v1/products", f.admin, `{"name":` + v + `,"price_cents":1,"stock":1}`, "name"},
				{"PATCH", "/v1/products/" + f.product.String(), f.admin, `{"description":` + v + `}`, "description"},
				{"PATCH", "/v1/products/" + f.product.String(), f.admin, `{"attributes":{"origin":` + v + `}}`, "attributes.origin"},
				{"PATCH", "/v1/products/" + f.product.String(), f.admin, `{"attributes":{` + v + `:1}}`, "attributes"},
				{"POST", "/v1/orders", f.customer, order("city", v), "shipping_address.city"},
				{"POST", "/v1/orders/" + f.order.String() + "/cancellation", f.customer, `{"reason":` + v + `}`, "reason"},
			}
			for _, c := range cases {
				status, e := rawCall(t, f.env, c.method, c.path, c.token, c.body)
				wantInvalid(t, status, e, c.field)
			}
			for _, q := range []string{"/v1/products?q=", "/v1/posts?q=", "/v1/posts?tag=", "/v1/users?q="} {
				for _, esc := range []string{"%00", "%ff", "%c3%28", "%07"} {
					status, e := rawCall(t, f.env, "GET", q+esc, f.admin, "")
					param := strings.TrimSuffix(q[strings.Index(q, "?")+1:], "=")
					wantInvalid(t, status, e, param)
				}
			}
			status, e := rawCall(t, f.env, "GET", "/v1/products/%00", "", "")
			wantInvalid(t, status, e, "product_id")
		})
	}
	t.Run("text with tabs and newlines is fine", func(t *testing.T) {
		status, _ := rawCall(t, f.env, "POST", "/v1/posts/"+f.post.String()+"/comments", f.customer, `{"body":"line one\n\tline two\r\n"}`)
		if status != http.StatusCreated {
			t.Fatalf("status %d", status)
		}
	})
}

// Every cursor is opaque and signed: made-up, truncated, flipped, or another sort's cursor answers 400.
func TestTamperedCursors(t *testing.T) {
	f := newHardeningFixture(t)
	ctx := context.Background()
	cf := catalogFixture{f.env, f.admin}
	for i := range 3 {
		cf.category(t, fmt.Sprintf("Cursor %d", i))
		cf.product(t, apiclient.ProductCreate{Name: fmt.Sprintf("Cursor tea %d", i), PriceCents: 100, Stock: 1})
	}
	for i := range 3 {
		f.env.Customer(fmt.Sprintf("cursor%d@example.com", i))
		pr, err := f.env.Client.CreatePostWithResponse(ctx, f.customerID, nil, apiclient.PostCreate{Title: fmt.Sprintf("T%d", i), Body: "b",
			Tags: &[]string{fmt.Sprintf("tag-%d", i)}}, testenv.Bearer(f.customer))
		wantStatus(t, pr, pr.Body, err, http.StatusCreated)
		pub, err := f.env.Client.UpdatePostWithResponse(ctx, pr.JSON201.Data.Id, nil, apiclient.PostPatch{Status: ptr(apiclient.PostStatus("published"))}, testenv.Bearer(f.admin))
		wantStatus(t, pub, pub.Body, err, http.StatusOK)
	}
	for range 2 {
		c, err := f.env.Client.CreateCommentWithResponse(ctx, f.post, nil, apiclient.CommentCreate{Body: "c"}, testenv.Bearer(f.customer))
		wantStatus(t, c, c.Body, err, http.StatusCreated)
	}
	forged := base64.RawURLEncoding.EncodeToString([]byte(`{"s":"name","k":"\u0000","id":"` + uuid.NewString() + `"}`))
	for _, path := range []string{"/v1/products?sort=name", "/v1/categories", "/v1/users?sort=email", "/v1/posts?sort=title", "/v1/tags",
		"/v1/posts/" + f.post.String() + "/comments", "/v1/orders"} {
		t.Run(path, func(t *testing.T) {
			sep := "?"
			if strings.Contains(path, "?") {
				sep = "&"
			}
			req, _ := http.NewRequest("GET", f.env.URL+path+sep+"limit=1", nil)
			req.Header.Set("Authorization", "Bearer "+f.admin)
			resp, err := f.env.HTTP.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var page struct {
				Meta struct {
					NextCursor *string `json:"next_cursor"`
				} `json:"meta"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&page)
			resp.Body.Close()
			bad := []string{"AAAA", forged, "x"}
			if c := page.Meta.NextCursor; c != nil {
				b := []byte(*c)
				b[len(b)/2] ^= 1
				if b[len(b)/2] == '-'^1 || b[len(b)/2] == '_'^1 {
					b[len(b)/2] = 'A'
				}
				bad = append(bad, string(b), (*c)[:len(*c)-4])
				otherSort := map[string]string{"sort=name": "sort=price", "sort=email": "sort=name", "sort=title": "sort=published_at"}
				for from, to := range otherSort { // a cursor of another sort
					if !strings.Contains(path, from) {
						continue
					}
					other := strings.Replace(path, from, to, 1)
					status, e := rawCall(t, f.env, "GET", other+"&cursor="+*c, f.admin, "")
					wantInvalid(t, status, e, "cursor")
				}
				status, _ := rawCall(t, f.env, "GET", path+sep+"limit=1&cursor="+*c, f.admin, "")
				if status != http.StatusOK {
					t.Fatalf("the real cursor answered %d", status)
				}
			} else if !strings.Contains(path, "orders") {
				t.Fatal("no next page: the fixture is too small")
			}
			for _, c := range bad {
				status, e := rawCall(t, f.env, "GET", path+sep+"cursor="+c, f.admin, "")
				wantInvalid(t, status, e, "cursor")
			}
		})
	}
}

// A suspended or deleted account is refused at once on every operation, on every instance, whatever
// its access token's expiry.
func TestRevokedAccountsStopAtOnce(t *testing.T) {
	redisEnv := testenv.RedisEnv(t)
	a := testenv.Start(t, redisEnv...)
	b := testenv.Start(t, append([]string{"DATABASE_URL=" + a.DatabaseURL()}, redisEnv...)...)
	ctx := context.Background()
	_, admin := a.Admin("revoke-admin@example.com")
	post := func(env *testenv.Env, token string, user uuid.UUID) int {
		r, err := env.Client.CreatePostWithResponse(ctx, user, nil, apiclient.PostCreate{Title: "T", Body: "B"}, testenv.Bearer(token))
		if err != nil {
			t.Fatal(err)
		}
		return r.StatusCode()
	}
	published := func() uuid.UUID {
		me, _ := a.Client.GetMeWithResponse(ctx, testenv.Bearer(admin))
		r, err := a.Client.CreatePostWithResponse(ctx, me.JSON200.Data.Id, nil, apiclient.PostCreate{Title: "Open", Body: "B",
			Status: ptr(apiclient.PostStatus("published"))}, testenv.Bearer(admin))
		wantStatus(t, r, r.Body, err, http.StatusCreated)
		return r.JSON201.Data.Id
	}()

	t.Run("suspended", func(t *testing.T) {
		u, tok := a.Customer("suspended@example.com")
		if got := post(b, tok, u.Id); got != http.StatusCreated {
			t.Fatalf("before suspension: %d", got)
		}
		s, err := a.Client.UpdateUserWithResponse(ctx, u.Id, nil, apiclient.UserPatch{Status: ptr(apiclient.UserStatus("suspended"))}, testenv.Bearer(admin))
		wantStatus(t, s, s.Body, err, http.StatusOK)
		for _, env := range []*testenv.Env{a, b} {
			if got := post(env, tok, u.Id); got != http.StatusUnauthorized {
				t.Fatalf("a post by a suspended account answered %d", got)
			}
			c, err := env.Client.CreateCommentWithResponse(ctx, published, nil, apiclient.CommentCreate{Body: "hi"}, testenv.Bearer(tok))
			wantError(t, c, c.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
			p, err := env.Client.UpdateUserWithResponse(ctx, u.Id, nil, apiclient.UserPatch{Name: ptr("Still me")}, testenv.Bearer(tok))
			wantError(t, p, p.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
			o, err := env.Client.CreateOrderWithResponse(ctx, key(), apiclient.OrderCreate{Items: []apiclient.OrderItemCreate{{ProductId: uuid.New(), Quantity: 1}},
				ShippingAddress: address}, testenv.Bearer(tok))
			wantError(t, o, o.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
			me, err := env.Client.GetMeWithResponse(ctx, testenv.Bearer(tok))
			wantError(t, me, me.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
		}
	})
	t.Run("deleted", func(t *testing.T) {
		u, tok := a.Customer("deleted@example.com")
		d, err := a.Client.DeleteUserWithResponse(ctx, u.Id, nil, testenv.Bearer(tok))
		wantStatus(t, d, d.Body, err, http.StatusNoContent)
		for _, env := range []*testenv.Env{a, b} {
			if got := post(env, tok, u.Id); got != http.StatusUnauthorized {
				t.Fatalf("a post by a deleted account answered %d", got)
			}
			c, err := env.Client.CreateCommentWithResponse(ctx, published, nil, apiclient.CommentCreate{Body: "hi"}, testenv.Bearer(tok))
			wantError(t, c, c.Body, err, http.StatusUnauthorized, "UNAUTHENTICATED")
		}
	})
}

// Integers are integers: 2.0 and 1e1 answer the same VALIDATION_ERROR as every other type error,
// naming the field, with no Go internals in the message.
func TestIntegerLiterals(t *testing.T) {
	f := newHardeningFixture(t)
	for _, lit := range []string{"2.0", "1e1", "1E2", "2.5"} {
		status, e := rawCall(t, f.env, "POST", "/v1/products", f.admin, `{"name":"n","price_cents":`+lit+`,"stock":1}`)
		wantInvalid(t, status, e, "price_cents")
		status, e = rawCall(t, f.env, "POST", "/v1/orders", f.customer,
			fmt.Sprintf(`{"items":[{"product_id":%q,"quantity":%s}],"shipping_address":{"name":"A","line1":"B","city":"C","postal_code":"D","country":"GB"}}`, f.product, lit))
		wantInvalid(t, status, e, "items[0].quantity")
	}
}

// No order carries more than any amount may (the spec's bound of *_cents); shipping address fields
// are bounded as the spec bounds them.
func TestOrderBounds(t *testing.T) {
	f := newHardeningFixture(t)
	dear := catalogFixture{f.env, f.admin}.product(t, apiclient.ProductCreate{Name: "Dear", PriceCents: 100_000_000_000, Stock: 10})
	o, err := f.env.Client.CreateOrderWithResponse(context.Background(), key(), apiclient.OrderCreate{
		Items: []apiclient.OrderItemCreate{{ProductId: dear.Id, Quantity: 2}}, ShippingAddress: address}, testenv.Bearer(f.customer))
	wantError(t, o, o.Body, err, http.StatusUnprocessableEntity, "ORDER_MAXIMUM_EXCEEDED")
	one, err := f.env.Client.CreateOrderWithResponse(context.Background(), key(), apiclient.OrderCreate{
		Items: []apiclient.OrderItemCreate{{ProductId: dear.Id, Quantity: 1}}, ShippingAddress: address}, testenv.Bearer(f.customer))
	wantStatus(t, one, one.Body, err, http.StatusCreated)
}

// The failed sign-in throttle holds per account across addresses: 50 wrong passwords against one
// account from 10 addresses get 20 real password checks, the rest 429 with Retry-After; the right
// password from an address with no failures still signs in, from one with failures it waits.
func TestAccountLoginThrottle(t *testing.T) {
	env := testenv.Start(t, "TRUSTED_PROXIES=127.0.0.1")
	env.Register("target@example.com", "the-right-password", "Target")
	login := func(from, password string) (int, string) {
		req, _ := http.NewRequest("POST", env.URL+"/v1/auth/login",
			strings.NewReader(`{"email":"target@example.com","password":"`+password+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Forwarded-For", from)
		resp, err := env.HTTP.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Retry-After")
	}
	checked, refused := 0, 0
	for i := range 50 {
		switch status, retry := login(fmt.Sprintf("192.0.2.%d", i%10+1), "wrong-password"); status {
		case http.StatusUnauthorized:
			checked++
		case http.StatusTooManyRequests:
			refused++
			if retry == "" || retry == "0" {
				t.Fatalf("429 without Retry-After")
			}
		default:
			t.Fatalf("status %d", status)
		}
	}
	if checked != 20 || refused != 30 {
		t.Fatalf("%d password checks and %d refusals, want 20 and 30", checked, refused)
	}
	if status, _ := login("192.0.2.1", "the-right-password"); status != http.StatusTooManyRequests {
		t.Fatalf("the right password from an address that failed answered %d, want 429", status)
	}
	if status, _ := login("198.51.100.7", "the-right-password"); status != http.StatusOK {
		t.Fatalf("the right password from a fresh address answered %d, want 200", status)
	}
}

// The sign-in throttle counts in PostgreSQL, so Redis going away loses no count.
func TestLoginThrottleSurvivesRedisOutage(t *testing.T) {
	redis := testenv.StartRedisServer(t)
	env := testenv.Start(t, "REDIS_URL="+redis.URL())
	env.Register("steady@example.com", "the-right-password", "Steady")
	try := func() int {
		r, err := env.Client.LoginWithResponse(context.Background(), apiclient.LoginRequest{Email: "steady@example.com", Password: "wrong-password"})
		if err != nil {
			t.Fatal(err)
		}
		return r.StatusCode()
	}
	for range 3 {
		if s := try(); s != http.StatusUnauthorized {
			t.Fatalf("status %d", s)
		}
	}
	redis.Stop()
	for range 2 {
		if s := try(); s != http.StatusUnauthorized {
			t.Fatalf("status %d", s)
		}
	}
	if s := try(); s != http.StatusTooManyRequests {
		t.Fatalf("the sixth failure with Redis gone answered %d, want 429", s)
	}
}

// Query strings refuse parameters the operation does not declare, naming them.
func TestUnknownQueryParameters(t *testing.T) {
	f := newHardeningFixture(t)
	for _, path := range []string{"/v1/orders?user_id=" + uuid.NewString(), "/v1/products?categoryid=x", "/v1/posts?autor_id=x", "/v1/tags?sort=name"} {
		status, e := rawCall(t, f.env, "GET", path, f.admin, "")
		name := path[strings.Index(path, "?")+1 : strings.Index(path, "=")]
		wantInvalid(t, status, e, name)
	}
	status, e := rawCall(t, f.env, "GET", "/v1/products?q=%zz", "", "")
	wantInvalid(t, status, e, "")
	if status, _ := rawCall(t, f.env, "GET", "/v1/products?limit=5&in_stock=true", "", ""); status != http.StatusOK {
		t.Fatalf("declared parameters answered %d", status)
	}
}

// Identifiers that spoof: bidirectional overrides and invisible characters in emails, bidirectional
// controls in names.
func TestSpoofedIdentifiers(t *testing.T) {
	env := testenv.Start(t)
	for _, c := range []struct{ body, field string }{
		{`{"email":"\u202eadmin@storefront.example","password":"long-enough","name":"A"}`, "email"},
		{`{"email":"ad\u200bmin@storefront.example","password":"long-enough","name":"A"}`, "email"},
		{`{"email":"admin\ufeff@storefront.example","password":"long-enough","name":"A"}`, "email"},
		{`{"email":"ok@storefront.example","password":"long-enough","name":"\u202enimda"}`, "name"},
		{`{"email":"ok2@storefront.example","password":"long-enough","name":"A\u2066B"}`, "name"},
	} {
		status, e := rawCall(t, env, "POST", "/v1/users", "", c.body)
		wantInvalid(t, status, e, c.field)
	}
	status, _ := rawCall(t, env, "POST", "/v1/users", "", `{"email":"zoë@storefront.example","password":"long-enough","name":"Zoë Ærø"}`)
	if status != http.StatusCreated {
		t.Fatalf("an ordinary non-ASCII registration answered %d", status)
	}
}

// A request with both Content-Length and Transfer-Encoding is refused with 400, and the connection is
// closed (RFC 9112 §6.3); an ordinary chunked request on a kept-alive connection still works.
func TestAmbiguousFraming(t *testing.T) {
	env := testenv.Start(t)
	host := strings.TrimPrefix(env.URL, "http://")
	send := func(t *testing.T, raw string) (status int, closed bool) {
		t.Helper()
		conn, err := net.DialTimeout("tcp", host, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := io.WriteString(conn, raw); err != nil {
			t.Fatal(err)
		}
		r := bufio.NewReader(conn)
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		// A second request on the same connection: answered only if the server kept it open.
		_, _ = io.WriteString(conn, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
		_, err = http.ReadResponse(r, nil)
		return resp.StatusCode, err != nil
	}
	body := `{"email":"frame@example.com","password":"long-enough","name":"F"}`
	chunked := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
	status, closed := send(t, "POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 4\r\n"+
		"Transfer-Encoding: chunked\r\n\r\n"+chunked)
	if status != http.StatusBadRequest || !closed {
		t.Fatalf("both headers: status %d, connection closed %v", status, closed)
	}
	// Field names are case-insensitive: the guard must not be dodged by spelling.
	status, closed = send(t, "POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\ncontent-LENGTH: 4\r\n"+
		"transfer-encoding: chunked\r\n\r\n"+chunked)
	if status != http.StatusBadRequest || !closed {
		t.Fatalf("both headers, in other cases: status %d, connection closed %v", status, closed)
	}
	status, closed = send(t, "POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"+chunked)
	if status != http.StatusCreated || closed {
		t.Fatalf("chunked only: status %d, connection closed %v", status, closed)
	}
	second := strings.Replace(body, "frame@", "frame2@", 1)
	status, closed = send(t, fmt.Sprintf("POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		len(second), second))
	if status != http.StatusCreated || closed {
		t.Fatalf("Content-Length only: status %d, connection closed %v", status, closed)
	}
}
