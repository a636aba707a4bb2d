package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/testenv"
)

func TestListUsers(t *testing.T) {
	env := testenv.Start(t)
	ctx := context.Background()
	_, admin := env.Admin("admin@example.com")
	const n = 45
	for i := 0; i < n; i++ {
		role := identity.RoleCustomer
		if i%5 == 0 {
			role = identity.RoleEditor
		}
		// Names repeat, so sorting by name exercises the tie-break on id.
		_, err := env.App.Identity.Register(ctx, identity.Registration{
			Email: fmt.Sprintf("user%02d@example.com", i), Password: "password-123", Name: fmt.Sprintf("Name %d", i%7), Role: role,
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	total := n + 1 // plus the admin

	list := func(t *testing.T, p apiclient.ListUsersParams) *apiclient.ListUsersResponse {
		t.Helper()
		resp, err := env.Client.ListUsersWithResponse(ctx, &p, testenv.Bearer(admin))
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		return resp
	}

	for _, s := range []apiclient.ListUsersParamsSort{"created_at", "-created_at", "email", "-email", "name", "-name"} {
		t.Run("every user exactly once sorted by "+string(s), func(t *testing.T) {
			seen := map[string]bool{}
			var keys []string
			var cursor *string
			pages := 0
			for {
				resp := list(t, apiclient.ListUsersParams{Sort: &s, Limit: ptr(int32(7)), Cursor: cursor})
				pages++
				for _, u := range resp.JSON200.Data {
					if seen[u.Id.String()] {
						t.Fatalf("user %s returned twice", u.Id)
					}
					seen[u.Id.String()] = true
					switch strings.TrimPrefix(string(s), "-") {
					case "email":
						keys = append(keys, strings.ToLower(string(u.Email)))
					case "name":
						keys = append(keys, u.Name)
					default:
						keys = append(keys, u.CreatedAt.Format("2006-01-02T15:04:05.000000"))
					}
				}
				if !resp.JSON200.Meta.HasMore {
					if resp.JSON200.Meta.NextCursor != nil {
						t.Fatal("last page has a next_cursor")
					}
					break
				}
				cursor = resp.JSON200.Meta.NextCursor
			}
			if len(seen) != total || pages != (total+6)/7 {
				t.Fatalf("saw %d users in %d pages, want %d in %d", len(seen), pages, total, (total+6)/7)
			}
			sorted := sort.SliceIsSorted(keys, func(i, j int) bool { return keys[i] < keys[j] })
			if strings.HasPrefix(string(s), "-") {
				sorted = sort.SliceIsSorted(keys, func(i, j int) bool { return keys[i] > keys[j] })
			}
			if !sorted {
				t.Fatalf("not sorted by %s: %v", s, keys)
			}
		})
	}
	t.Run("filters and counts", func(t *testing.T) {
		resp := list(t, apiclient.ListUsersParams{Role: ptr(apiclient.Editor), Count: ptr(apiclient.ListUsersParamsCountExact), Limit: ptr(int32(100))})
		if got := len(resp.JSON200.Data); got != 9 || resp.JSON200.Meta.Total == nil || *resp.JSON200.Meta.Total != 9 {
			t.Fatalf("editors: %d rows, total %v", got, resp.JSON200.Meta.Total)
		}
		for _, u := range resp.JSON200.Data {
			if u.Role != apiclient.Editor {
				t.Fatalf("filter leaked %s", u.Role)
			}
		}
		q := list(t, apiclient.ListUsersParams{Q: ptr("USER1"), Count: ptr(apiclient.ListUsersParamsCountExact)})
		if *q.JSON200.Meta.Total != 10 { // user10..user19
			t.Fatalf("q=USER1 total %d", *q.JSON200.Meta.Total)
		}
		like := list(t, apiclient.ListUsersParams{Q: ptr("%"), Count: ptr(apiclient.ListUsersParamsCountExact)})
		if *like.JSON200.Meta.Total != 0 {
			t.Fatalf("q=%% is not literal: %d", *like.JSON200.Meta.Total)
		}
		est := list(t, apiclient.ListUsersParams{Count: ptr(apiclient.ListUsersParamsCountEstimated)})
		if est.JSON200.Meta.Total == nil || *est.JSON200.Meta.Total < 0 {
			t.Fatalf("estimated total missing: %v", est.JSON200.Meta.Total)
		}
		plain := list(t, apiclient.ListUsersParams{})
		if plain.JSON200.Meta.Total != nil || plain.JSON200.Meta.PerPage != 20 || len(plain.JSON200.Data) != 20 {
			t.Fatalf("defaults: %+v", plain.JSON200.Meta)
		}
	})
	t.Run("cursor of another sort is refused", func(t *testing.T) {
		first := list(t, apiclient.ListUsersParams{Sort: ptr(apiclient.ListUsersParamsSortEmail), Limit: ptr(int32(2))})
		resp, err := env.Client.ListUsersWithResponse(ctx, &apiclient.ListUsersParams{Sort: ptr(apiclient.ListUsersParamsSortName), Cursor: first.JSON200.Meta.NextCursor}, testenv.Bearer(admin))
		e := wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
		wantFields(t, e, "cursor")
		garbage, err := env.Client.ListUsersWithResponse(ctx, &apiclient.ListUsersParams{Cursor: ptr("bm90LWEtY3Vyc29y")}, testenv.Bearer(admin))
		wantError(t, garbage, garbage.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
	})
}
