package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/testenv"
)

// The real resources the negative cases address, so that handlers run past their lookups: a category, a
// product, published posts with comments and tags, orders in every state, and victims for the operations
// that use their target up.

// negCaller is who sends a case.
type negCaller struct {
	name   string
	token  string
	scopes []string
}

type negFixture struct {
	t                        *testing.T
	env                      *testenv.Env
	anonymous, customer, adm negCaller
	customerID               string
	// ids are the path parameters' values: real resources the admin and the customer can see.
	ids map[string]string
	// fresh makes a new target for an operation that uses its target up (a delete, an order
	// transition), after a case succeeded with it; it also makes the first one.
	fresh        map[string]func() map[string]string
	orderProduct string
	category     string
	seq          atomic.Int64
	requests     atomic.Int64 // sent to make the resources and to find cursors
}

func newNegFixture(t *testing.T, env *testenv.Env) *negFixture {
	t.Helper()
	f := &negFixture{t: t, env: env, anonymous: negCaller{name: "anonymous"}}
	_, adminToken := env.Admin("neg-admin@example.com")
	customer, customerToken := env.Customer("neg-customer@example.com")
	f.adm = negCaller{name: "admin", token: adminToken, scopes: testenv.Scopes(t, adminToken)}
	f.customer = negCaller{name: "customer", token: customerToken, scopes: testenv.Scopes(t, customerToken)}
	f.customerID = customer.Id.String()

	f.category = f.newCategory()
	f.newCategory() // lists need two of everything to hand out a cursor
	f.orderProduct = f.id(f.call(f.adm, "POST", "/v1/products", map[string]any{
		"name": "Negative order tea", "price_cents": 1000, "stock": 1000000, "category_id": f.category}))
	pathProduct := f.newProduct()
	posts := []string{f.newPost("tea", "brewing"), f.newPost("tea", "green")}
	for _, p := range posts {
		f.call(f.adm, "PATCH", "/v1/posts/"+p, map[string]any{"status": "published"})
	}
	comment := f.newComment(posts[0])
	f.newComment(posts[0])
	endpoint := f.newEndpoint()
	f.newEndpoint()
	order := f.placeOrder() // its order.created event gets a delivery to each endpoint
	f.placeOrder()
	apiKey := f.newAPIKey()
	f.newAPIKey()
	event := f.first("/v1/events")
	delivery := f.first("/v1/webhook-endpoints/" + endpoint + "/deliveries")

	f.ids = map[string]string{"user_id": f.customerID, "category_id": f.category, "product_id": pathProduct,
		"post_id": posts[0], "comment_id": comment, "order_id": order, "api_key_id": apiKey,
		"webhook_endpoint_id": endpoint, "event_id": event, "delivery_id": delivery}
	if t.Failed() {
		t.FailNow()
	}
	f.fresh = map[string]func() map[string]string{
		"deleteUser": func() map[string]string {
			return map[string]string{"user_id": f.id(f.call(f.anonymous, "POST", "/v1/users", map[string]any{
				"email": fmt.Sprintf("neg-victim-%d@example.com", f.seq.Add(1)), "password": "victim-password", "name": "Victim"}))}
		},
		"deletePost":     func() map[string]string { return map[string]string{"post_id": f.newPost("victim")} },
		"deleteComment":  func() map[string]string { return map[string]string{"comment_id": f.newComment(posts[0])} },
		"deleteCategory": func() map[string]string { return map[string]string{"category_id": f.newCategory()} },
		"deleteProduct":  func() map[string]string { return map[string]string{"product_id": f.newProduct()} },
		"payOrder":       func() map[string]string { return map[string]string{"order_id": f.placeOrder()} },
		"cancelOrder":    func() map[string]string { return map[string]string{"order_id": f.placeOrder()} },
		"shipOrder":      func() map[string]string { return map[string]string{"order_id": f.pay(f.placeOrder())} },
		"deliverOrder":   func() map[string]string { return map[string]string{"order_id": f.ship(f.pay(f.placeOrder()))} },
		"revokeApiKey":   func() map[string]string { return map[string]string{"api_key_id": f.newAPIKey()} },
		"deleteWebhookEndpoint": func() map[string]string {
			return map[string]string{"webhook_endpoint_id": f.newEndpoint()}
		},
	}
	return f
}

// newEndpoint subscribes a receiver that is never called (no workers run in the test) to new orders.
func (f *negFixture) newEndpoint() string {
	return f.id(f.call(f.adm, "POST", "/v1/webhook-endpoints", map[string]any{
		"url": fmt.Sprintf("http://127.0.0.1:9/hooks/%d", f.seq.Add(1)), "event_types": []string{"order.created"}}))
}

// first is the id of the first item a list answers the admin.
func (f *negFixture) first(path string) string {
	f.t.Helper()
	list := f.call(f.adm, "GET", path, nil)
	items, _ := list["data"].([]any)
	if len(items) == 0 {
		f.t.Fatalf("%s lists nothing", path)
	}
	id, _ := items[0].(map[string]any)["id"].(string)
	return id
}

func (f *negFixture) newAPIKey() string {
	return f.id(f.call(f.adm, "POST", "/v1/api-keys", map[string]any{"name": fmt.Sprintf("Negative key %d", f.seq.Add(1)),
		"scopes": []string{"catalog:read"}}))
}

func (f *negFixture) newCategory() string {
	return f.id(f.call(f.adm, "POST", "/v1/categories", map[string]any{"name": fmt.Sprintf("Negative category %d", f.seq.Add(1))}))
}

func (f *negFixture) newProduct() string {
	return f.id(f.call(f.adm, "POST", "/v1/products", map[string]any{
		"name": fmt.Sprintf("Negative product %d", f.seq.Add(1)), "price_cents": 500, "stock": 10, "category_id": f.category}))
}

func (f *negFixture) newPost(tags ...string) string {
	return f.id(f.call(f.customer, "POST", "/v1/users/"+f.customerID+"/posts", map[string]any{
		"title": fmt.Sprintf("Negative post %d", f.seq.Add(1)), "body": "Steep for two minutes.", "tags": tags}))
}

func (f *negFixture) newComment(post string) string {
	return f.id(f.call(f.customer, "POST", "/v1/posts/"+post+"/comments", map[string]any{"body": "Nice."}))
}

func (f *negFixture) placeOrder() string {
	return f.id(f.call(f.customer, "POST", "/v1/orders", map[string]any{
		"items":            []any{map[string]any{"product_id": f.orderProduct, "quantity": 1}},
		"shipping_address": map[string]any{"name": "Ada Lovelace", "line1": "12 St James's Square", "city": "London", "postal_code": "SW1Y 4JH", "country": "GB"},
	}, "Idempotency-Key", uuid.NewString()))
}

func (f *negFixture) pay(order string) string {
	f.call(f.customer, "POST", "/v1/orders/"+order+"/payment", map[string]any{"payment_method": "pm_card_ok"}, "Idempotency-Key", uuid.NewString())
	return order
}

func (f *negFixture) ship(order string) string {
	f.call(f.adm, "POST", "/v1/orders/"+order+"/shipment", map[string]any{"carrier": "DHL", "tracking_number": "JD0146"})
	return order
}

// call sends a valid request through the spec-checking client and fails the test unless it succeeds. It
// runs on the workers' goroutines too (fresh targets), so it reports with Errorf and returns nil.
func (f *negFixture) call(c negCaller, method, path string, body any, headers ...string) map[string]any {
	f.t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, f.env.URL+path, r)
	if err != nil {
		f.t.Errorf("fixture %s %s: %v", method, path, err)
		return nil
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	f.requests.Add(1)
	resp, err := f.env.HTTP.Do(req)
	if err != nil {
		f.t.Errorf("fixture %s %s: %v", method, path, err)
		return nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if resp.StatusCode >= 300 || len(b) > 0 && json.Unmarshal(b, &out) != nil {
		f.t.Errorf("fixture %s %s: %d %s", method, path, resp.StatusCode, b)
		return nil
	}
	return out
}

func (f *negFixture) id(resp map[string]any) string {
	f.t.Helper()
	data, _ := resp["data"].(map[string]any)
	id, _ := data["id"].(string)
	if id == "" && resp != nil {
		f.t.Errorf("no data.id in %v", resp)
	}
	return id
}

// unique marks a body value that must differ on every request (emails, category and product names);
// send replaces it with a sequence number of the same width, so lengths stay what the case made them.
const unique = "Zq9Uniq0"

var uniqueFields = map[string][]string{
	"registerUser": {"email"}, "replaceUser": {"email"}, "updateUser": {"email"},
	"createCategory": {"name"}, "updateCategory": {"name"}, "createProduct": {"name"}, "replaceProduct": {"name"},
}

// example is the operation's request body example with the fixture's ids in place of the spec's
// sample ids and unique markers in the values that must not collide.
func (f *negFixture) example(op *specOp) any {
	if op.example == nil {
		return nil
	}
	doc := cloneJSON(op.example)
	var visit func(v any)
	visit = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				switch k {
				case "product_id":
					x[k] = f.orderProduct
				case "category_id":
					x[k] = f.category
				default:
					visit(e)
				}
			}
		case []any:
			for _, e := range x {
				visit(e)
			}
		}
	}
	visit(doc)
	if m, ok := doc.(map[string]any); ok {
		for _, name := range uniqueFields[op.id] {
			if s, ok := m[name].(string); ok {
				if local, domain, isEmail := strings.Cut(s, "@"); isEmail {
					m[name] = local + "." + unique + "@" + domain
				} else {
					m[name] = s + " " + unique
				}
			}
		}
	}
	return doc
}

// genuineCursors pages once through every sort of a list operation (as the admin, who sees the most) and
// keeps each first page's next_cursor.
func (f *negFixture) genuineCursors(op *specOp) []genuineCursor {
	if op.param("query", "cursor") == nil {
		return nil
	}
	sorts := []string{""}
	if p := op.param("query", "sort"); p != nil {
		sorts = sorts[:0]
		for _, e := range p.Schema.Value.Enum {
			sorts = append(sorts, e.(string))
		}
	}
	var out []genuineCursor
	for _, s := range sorts {
		q := url.Values{"limit": {"1"}}
		if s != "" {
			q.Set("sort", s)
		}
		req, err := http.NewRequest("GET", f.env.URL+fillPath(op.path, f.ids, nil)+"?"+q.Encode(), nil)
		if err != nil {
			f.t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+f.adm.token)
		f.requests.Add(1)
		resp, err := f.env.HTTP.Do(req)
		if err != nil {
			f.t.Fatal(err)
		}
		var page struct {
			Meta struct {
				NextCursor string `json:"next_cursor"`
			} `json:"meta"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && err == nil && page.Meta.NextCursor != "" {
			out = append(out, genuineCursor{sort: s, cursor: page.Meta.NextCursor})
		}
	}
	if len(out) == 0 {
		f.t.Fatalf("%s: no first page handed out a cursor", op.id)
	}
	return out
}

// fillPath puts ids (escaped) and overrides (already escaped) into a path template.
func fillPath(template string, ids, overrides map[string]string) string {
	parts := strings.Split(template, "/")
	for i, s := range parts {
		if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
			name := s[1 : len(s)-1]
			if v, ok := overrides[name]; ok {
				parts[i] = v
			} else {
				parts[i] = url.PathEscape(ids[name])
			}
		}
	}
	return strings.Join(parts, "/")
}
