package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/apiclient"
	"github.com/storefront/storefront/internal/identity"
	"github.com/storefront/storefront/internal/testenv"
)

type contentFixture struct {
	env                *testenv.Env
	alice, bob, editor string
	aliceID, bobID     uuid.UUID
}

func newContentFixture(t *testing.T) contentFixture {
	env := testenv.Start(t)
	a, alice := env.Customer("alice@example.com")
	b, bob := env.Customer("bob@example.com")
	if _, err := env.App.Identity.EnsureUser(context.Background(), identity.Registration{
		Email: "editor@example.com", Password: "editor-password", Name: "Editor", Role: identity.RoleEditor}); err != nil {
		t.Fatal(err)
	}
	editor := env.Login("editor@example.com", "editor-password").AccessToken
	return contentFixture{env: env, alice: alice, bob: bob, editor: editor, aliceID: a.Id, bobID: b.Id}
}

func (f contentFixture) post(t *testing.T, token string, author uuid.UUID, body apiclient.PostCreate) apiclient.Post {
	t.Helper()
	resp, err := f.env.Client.CreatePostWithResponse(context.Background(), author, nil, body, testenv.Bearer(token))
	wantStatus(t, resp, resp.Body, err, http.StatusCreated)
	return resp.JSON201.Data
}

func (f contentFixture) publish(t *testing.T, id uuid.UUID) apiclient.Post {
	t.Helper()
	resp, err := f.env.Client.UpdatePostWithResponse(context.Background(), id, nil, apiclient.PostPatch{Status: ptr(apiclient.Published)}, testenv.Bearer(f.editor))
	wantStatus(t, resp, resp.Body, err, http.StatusOK)
	return resp.JSON200.Data
}

func TestPostsWorkflow(t *testing.T) {
	f := newContentFixture(t)
	ctx := context.Background()
	draft := f.post(t, f.alice, f.aliceID, apiclient.PostCreate{Title: "Brewing <b>green</b> tea", Body: "Use water at 70 °C. <script>alert(1)</script>", Tags: &[]string{"tea", "brewing"}})

	t.Run("text comes back exactly as sent", func(t *testing.T) {
		if draft.Title != "Brewing <b>green</b> tea" || draft.Body != "Use water at 70 °C. <script>alert(1)</script>" {
			t.Fatalf("text changed: %q %q", draft.Title, draft.Body)
		}
		if draft.Status != apiclient.Draft || draft.Slug != "brewing-b-green-b-tea" || len(draft.Tags) != 2 || draft.PublishedAt != nil {
			t.Fatalf("draft %+v", draft)
		}
	})
	t.Run("a customer cannot publish", func(t *testing.T) {
		resp, err := f.env.Client.UpdatePostWithResponse(ctx, draft.Id, nil, apiclient.PostPatch{Status: ptr(apiclient.Published)}, testenv.Bearer(f.alice))
		wantError(t, resp, resp.Body, err, http.StatusForbidden, "FORBIDDEN")
		created, err := f.env.Client.CreatePostWithResponse(ctx, f.aliceID, nil, apiclient.PostCreate{Title: "T", Body: "B", Status: ptr(apiclient.Published)}, testenv.Bearer(f.alice))
		wantError(t, created, created.Body, err, http.StatusForbidden, "FORBIDDEN")
	})
	t.Run("others cannot see a draft", func(t *testing.T) {
		anon, err := f.env.Client.GetPostWithResponse(ctx, draft.Id, nil)
		wantError(t, anon, anon.Body, err, http.StatusNotFound, "NOT_FOUND")
		bob, err := f.env.Client.GetPostWithResponse(ctx, draft.Id, nil, testenv.Bearer(f.bob))
		wantError(t, bob, bob.Body, err, http.StatusNotFound, "NOT_FOUND")
		edit, err := f.env.Client.UpdatePostWithResponse(ctx, draft.Id, nil, apiclient.PostPatch{Title: ptr("mine now")}, testenv.Bearer(f.bob))
		wantError(t, edit, edit.Body, err, http.StatusNotFound, "NOT_FOUND")
		list, err := f.env.Client.ListPostsWithResponse(ctx, &apiclient.ListPostsParams{}, testenv.Bearer(f.bob))
		wantStatus(t, list, list.Body, err, http.StatusOK)
		if len(list.JSON200.Data) != 0 {
			t.Fatal("a draft is listed to another customer")
		}
		own, err := f.env.Client.ListUserPostsWithResponse(ctx, f.aliceID, &apiclient.ListUserPostsParams{}, testenv.Bearer(f.alice))
		wantStatus(t, own, own.Body, err, http.StatusOK)
		if len(own.JSON200.Data) != 1 {
			t.Fatal("the author does not see their draft")
		}
		mod, err := f.env.Client.GetPostWithResponse(ctx, draft.Id, nil, testenv.Bearer(f.editor))
		wantStatus(t, mod, mod.Body, err, http.StatusOK)
	})
	t.Run("writing in another user's name", func(t *testing.T) {
		resp, err := f.env.Client.CreatePostWithResponse(ctx, f.bobID, nil, apiclient.PostCreate{Title: "T", Body: "B"}, testenv.Bearer(f.alice))
		wantError(t, resp, resp.Body, err, http.StatusNotFound, "NOT_FOUND")
	})
	var published apiclient.Post
	t.Run("an editor publishes; published_at is set once", func(t *testing.T) {
		published = f.publish(t, draft.Id)
		if published.Status != apiclient.Published || published.PublishedAt == nil {
			t.Fatalf("published %+v", published)
		}
		archived, err := f.env.Client.UpdatePostWithResponse(ctx, draft.Id, nil, apiclient.PostPatch{Status: ptr(apiclient.Archived)}, testenv.Bearer(f.alice))
		wantStatus(t, archived, archived.Body, err, http.StatusOK)
		back, err := f.env.Client.UpdatePostWithResponse(ctx, draft.Id, nil, apiclient.PostPatch{Status: ptr(apiclient.Draft)}, testenv.Bearer(f.editor))
		e := wantError(t, back, back.Body, err, http.StatusConflict, "INVALID_STATE_TRANSITION")
		if e.Message != "The post is archived and cannot become draft." {
			t.Fatalf("message %q", e.Message)
		}
		again := f.publish(t, draft.Id)
		if !again.PublishedAt.Equal(*published.PublishedAt) {
			t.Fatalf("published_at moved: %v → %v", published.PublishedAt, again.PublishedAt)
		}
	})
	t.Run("anyone reads a published post; only author and moderators edit it", func(t *testing.T) {
		anon, err := f.env.Client.GetPostWithResponse(ctx, draft.Id, nil)
		wantStatus(t, anon, anon.Body, err, http.StatusOK)
		if anon.HTTPResponse.Header.Get("Cache-Control") != "public, max-age=60" {
			t.Fatalf("Cache-Control %q", anon.HTTPResponse.Header.Get("Cache-Control"))
		}
		tag := anon.HTTPResponse.Header.Get("ETag")
		nm, err := f.env.Client.GetPostWithResponse(ctx, draft.Id, &apiclient.GetPostParams{IfNoneMatch: &tag})
		wantStatus(t, nm, nm.Body, err, http.StatusNotModified)
		bob, err := f.env.Client.UpdatePostWithResponse(ctx, draft.Id, nil, apiclient.PostPatch{Title: ptr("defaced")}, testenv.Bearer(f.bob))
		wantError(t, bob, bob.Body, err, http.StatusForbidden, "FORBIDDEN")
		del, err := f.env.Client.DeletePostWithResponse(ctx, draft.Id, nil, testenv.Bearer(f.bob))
		wantError(t, del, del.Body, err, http.StatusForbidden, "FORBIDDEN")
		mod, err := f.env.Client.UpdatePostWithResponse(ctx, draft.Id, &apiclient.UpdatePostParams{IfMatch: &tag}, apiclient.PostPatch{Excerpt: ptr("Cooler water.")}, testenv.Bearer(f.editor))
		wantStatus(t, mod, mod.Body, err, http.StatusOK)
		stale, err := f.env.Client.ReplacePostWithResponse(ctx, draft.Id, &apiclient.ReplacePostParams{IfMatch: &tag},
			apiclient.PostCreate{Title: "Lost", Body: "update"}, testenv.Bearer(f.alice))
		wantError(t, stale, stale.Body, err, http.StatusPreconditionFailed, "PRECONDITION_FAILED")
	})
	t.Run("slugs are unique and filterable", func(t *testing.T) {
		twin := f.post(t, f.bob, f.bobID, apiclient.PostCreate{Title: "Brewing <b>green</b> tea", Body: "Another take."})
		if twin.Slug != "brewing-b-green-b-tea-2" {
			t.Fatalf("slug %q", twin.Slug)
		}
		resp, err := f.env.Client.ListPostsWithResponse(ctx, &apiclient.ListPostsParams{Slug: ptr("brewing-b-green-b-tea")})
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if len(resp.JSON200.Data) != 1 || resp.JSON200.Data[0].Id != draft.Id {
			t.Fatalf("slug filter %+v", resp.JSON200.Data)
		}
	})
	t.Run("tags", func(t *testing.T) {
		bad, err := f.env.Client.CreatePostWithResponse(ctx, f.aliceID, nil, apiclient.PostCreate{Title: "T", Body: "B",
			Tags: &[]string{"Green Tea"}}, testenv.Bearer(f.alice))
		wantError(t, bad, bad.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
		eleven := make([]string, 11)
		for i := range eleven {
			eleven[i] = "t" + string(rune('a'+i))
		}
		many, err := f.env.Client.CreatePostWithResponse(ctx, f.aliceID, nil, apiclient.PostCreate{Title: "T", Body: "B", Tags: &eleven}, testenv.Bearer(f.alice))
		wantError(t, many, many.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
		dup, err := f.env.Client.CreatePostWithResponse(ctx, f.aliceID, nil, apiclient.PostCreate{Title: "T", Body: "B", Tags: &[]string{"tea", "tea"}}, testenv.Bearer(f.alice))
		wantError(t, dup, dup.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
		f.post(t, f.alice, f.aliceID, apiclient.PostCreate{Title: "Unpublished", Body: "B", Tags: &[]string{"secret"}})
		tags, err := f.env.Client.ListTagsWithResponse(ctx, nil)
		wantStatus(t, tags, tags.Body, err, http.StatusOK)
		got := map[string]int64{}
		for _, tg := range tags.JSON200.Data {
			got[tg.Name] = tg.PostCount
		}
		if len(got) != 2 || got["tea"] != 1 || got["brewing"] != 1 {
			t.Fatalf("tags %v (drafts must not count)", got)
		}
		byTag, err := f.env.Client.ListPostsWithResponse(ctx, &apiclient.ListPostsParams{Tag: ptr("tea")})
		wantStatus(t, byTag, byTag.Body, err, http.StatusOK)
		if len(byTag.JSON200.Data) != 1 {
			t.Fatalf("tag filter: %d", len(byTag.JSON200.Data))
		}
	})
}

func TestComments(t *testing.T) {
	f := newContentFixture(t)
	ctx := context.Background()
	post := f.post(t, f.alice, f.aliceID, apiclient.PostCreate{Title: "Oolong notes", Body: "Roasted and floral."})
	t.Run("only on published posts", func(t *testing.T) {
		resp, err := f.env.Client.CreateCommentWithResponse(ctx, post.Id, nil, apiclient.CommentCreate{Body: "first"}, testenv.Bearer(f.alice))
		wantError(t, resp, resp.Body, err, http.StatusConflict, "CONFLICT")
	})
	f.publish(t, post.Id)
	comment := func(token, body string) apiclient.Comment {
		t.Helper()
		resp, err := f.env.Client.CreateCommentWithResponse(ctx, post.Id, nil, apiclient.CommentCreate{Body: body}, testenv.Bearer(token))
		wantStatus(t, resp, resp.Body, err, http.StatusCreated)
		return resp.JSON201.Data
	}
	byBob := comment(f.bob, "Bob says hi")
	byEditor := comment(f.editor, "Editor's note")
	byBob2 := comment(f.bob, "Bob again")

	t.Run("oldest first, public", func(t *testing.T) {
		resp, err := f.env.Client.ListCommentsWithResponse(ctx, post.Id, &apiclient.ListCommentsParams{Limit: ptr(int32(2))})
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if len(resp.JSON200.Data) != 2 || resp.JSON200.Data[0].Id != byBob.Id || !resp.JSON200.Meta.HasMore {
			t.Fatalf("page %+v", resp.JSON200)
		}
		next, err := f.env.Client.ListCommentsWithResponse(ctx, post.Id, &apiclient.ListCommentsParams{Cursor: resp.JSON200.Meta.NextCursor})
		wantStatus(t, next, next.Body, err, http.StatusOK)
		if len(next.JSON200.Data) != 1 || next.JSON200.Data[0].Id != byBob2.Id {
			t.Fatalf("second page %+v", next.JSON200)
		}
	})
	t.Run("a customer cannot delete another's comment", func(t *testing.T) {
		resp, err := f.env.Client.DeleteCommentWithResponse(ctx, post.Id, byEditor.Id, testenv.Bearer(f.bob))
		wantError(t, resp, resp.Body, err, http.StatusForbidden, "FORBIDDEN")
	})
	t.Run("comment author, post author and moderators can", func(t *testing.T) {
		for token, c := range map[string]apiclient.Comment{f.bob: byBob, f.alice: byBob2, f.editor: byEditor} {
			resp, err := f.env.Client.DeleteCommentWithResponse(ctx, post.Id, c.Id, testenv.Bearer(token))
			wantStatus(t, resp, resp.Body, err, http.StatusNoContent)
		}
		gone, err := f.env.Client.DeleteCommentWithResponse(ctx, post.Id, byBob.Id, testenv.Bearer(f.bob))
		wantError(t, gone, gone.Body, err, http.StatusNotFound, "NOT_FOUND")
	})
	t.Run("a comment is addressed through its own post", func(t *testing.T) {
		c := comment(f.bob, "stays")
		other := f.post(t, f.bob, f.bobID, apiclient.PostCreate{Title: "Other", Body: "B"})
		f.publish(t, other.Id)
		resp, err := f.env.Client.DeleteCommentWithResponse(ctx, other.Id, c.Id, testenv.Bearer(f.bob))
		wantError(t, resp, resp.Body, err, http.StatusNotFound, "NOT_FOUND")
	})
	t.Run("blank comment", func(t *testing.T) {
		resp, err := f.env.Client.CreateCommentWithResponse(ctx, post.Id, nil, apiclient.CommentCreate{Body: "   "}, testenv.Bearer(f.bob))
		wantError(t, resp, resp.Body, err, http.StatusBadRequest, "VALIDATION_ERROR")
	})
}

func TestPostSearch(t *testing.T) {
	f := newContentFixture(t)
	ctx := context.Background()
	in := func(title, body string, tags ...string) apiclient.Post {
		p := f.post(t, f.alice, f.aliceID, apiclient.PostCreate{Title: title, Body: body, Tags: &tags})
		return f.publish(t, p.Id)
	}
	bodyHit := in("Morning rituals", "We always start with darjeeling and a quiet minute.", "tea")
	titleHit := in("Darjeeling, the champagne of teas", "A short history of the region.", "tea", "history")
	in("Coffee roasting", "Beans, heat and patience.", "coffee")

	t.Run("finds by title and body words, title hits first", func(t *testing.T) {
		resp, err := f.env.Client.ListPostsWithResponse(ctx, &apiclient.ListPostsParams{Q: ptr("darjeeling")})
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		d := resp.JSON200.Data
		if len(d) != 2 || d[0].Id != titleHit.Id || d[1].Id != bodyHit.Id {
			t.Fatalf("results %v", titles(d))
		}
	})
	t.Run("stemming and combination with tag", func(t *testing.T) {
		resp, err := f.env.Client.ListPostsWithResponse(ctx, &apiclient.ListPostsParams{Q: ptr("histories"), Tag: ptr("history")})
		wantStatus(t, resp, resp.Body, err, http.StatusOK)
		if len(resp.JSON200.Data) != 1 || resp.JSON200.Data[0].Id != titleHit.Id {
			t.Fatalf("results %v", titles(resp.JSON200.Data))
		}
		none, err := f.env.Client.ListPostsWithResponse(ctx, &apiclient.ListPostsParams{Q: ptr("darjeeling"), Tag: ptr("coffee")})
		wantStatus(t, none, none.Body, err, http.StatusOK)
		if len(none.JSON200.Data) != 0 {
			t.Fatal("filters do not combine")
		}
	})
}

func titles(ps []apiclient.Post) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Title
	}
	return out
}

func TestPostPaginationOverThousandPosts(t *testing.T) {
	f := newContentFixture(t)
	ctx := context.Background()
	// 1,000 published posts, with repeated titles and publication times, so ties are broken by id.
	_, err := f.env.App.Pool.Exec(ctx, `
		INSERT INTO posts (public_id, author_id, title, slug, body, status, published_at)
		SELECT gen_random_uuid(), (SELECT id FROM users WHERE public_id = $1), 'Post ' || (g % 97), 'post-' || g, 'Body ' || g,
		       'published', now() - (g % 300) * interval '1 minute'
		FROM generate_series(1, 1000) g`, f.aliceID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []apiclient.ListPostsParamsSort{"-published_at", "published_at", "title", "-created_at"} {
		t.Run(string(s), func(t *testing.T) {
			seen := map[uuid.UUID]bool{}
			var cursor *string
			pages := 0
			for {
				resp, err := f.env.Client.ListPostsWithResponse(ctx, &apiclient.ListPostsParams{Sort: &s, Limit: ptr(int32(100)), Cursor: cursor})
				wantStatus(t, resp, resp.Body, err, http.StatusOK)
				pages++
				for _, p := range resp.JSON200.Data {
					if seen[p.Id] {
						t.Fatalf("post %s returned twice", p.Id)
					}
					seen[p.Id] = true
				}
				if !resp.JSON200.Meta.HasMore {
					break
				}
				cursor = resp.JSON200.Meta.NextCursor
			}
			if len(seen) != 1000 || pages != 10 {
				t.Fatalf("saw %d posts in %d pages", len(seen), pages)
			}
		})
	}
}
