package storetest

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/content"
	"github.com/storefront/storefront/internal/page"
)

func newPost(t *testing.T, s Stores, author uuid.UUID, title string, status content.Status, tags ...string) content.Post {
	t.Helper()
	p := content.Post{ID: newID(), AuthorID: author, Title: title, Body: "Body of " + title, Status: status, Tags: tags}
	if status == content.StatusPublished {
		p.PublishedAt = ptr(time.Now().UTC())
	}
	return must(s.Content.CreatePost(ctx, p, "post-"+newID().String()[:13]))(t)
}

var contentCases = []testCase{
	{"a post reads back whole, with a free slug", func(t *testing.T, s Stores) {
		u := newUser(t, s, "writer-"+newID().String()+"@example.com")
		p := must(s.Content.CreatePost(ctx, content.Post{ID: newID(), AuthorID: u.ID, Title: "Steeping", Body: "Hot water.",
			Excerpt: ptr("short"), Status: content.StatusDraft, Tags: []string{"tea"}}, "steeping"))(t)
		q := must(s.Content.CreatePost(ctx, content.Post{ID: newID(), AuthorID: u.ID, Title: "Steeping", Body: "Again.",
			Status: content.StatusDraft}, "steeping"))(t)
		if p.Slug != "steeping" || q.Slug != "steeping-2" {
			t.Fatalf("slugs %q %q", p.Slug, q.Slug)
		}
		got := must(s.Content.Post(ctx, p.ID))(t)
		if got.Title != "Steeping" || got.AuthorID != u.ID || *got.Excerpt != "short" || len(got.Tags) != 1 || got.Status != content.StatusDraft {
			t.Fatalf("read %+v", got)
		}
		if q.Tags == nil {
			t.Fatal("a post without tags reads as nil tags, want empty")
		}
	}},
	{"a post update is read back at once; a delete hides it", func(t *testing.T, s Stores) {
		u := newUser(t, s, "editor-"+newID().String()+"@example.com")
		p := newPost(t, s, u.ID, "Draft", content.StatusDraft)
		must(s.Content.Post(ctx, p.ID))(t)
		p.Status, p.PublishedAt, p.Title = content.StatusPublished, ptr(time.Now().UTC()), "Published"
		must(s.Content.UpdatePost(ctx, p, ""))(t)
		if got := must(s.Content.Post(ctx, p.ID))(t); got.Status != content.StatusPublished || got.Title != "Published" || got.PublishedAt == nil {
			t.Fatalf("read %+v", got)
		}
		check(t, s.Content.DeletePost(ctx, p.ID))
		_, err := s.Content.Post(ctx, p.ID)
		wantNotFound(t, err, "post")
		wantNotFound(t, s.Content.DeletePost(ctx, p.ID), "post")
	}},
	{"comments go to published posts only", func(t *testing.T, s Stores) {
		u := newUser(t, s, "commenter-"+newID().String()+"@example.com")
		pub := newPost(t, s, u.ID, "Open", content.StatusPublished)
		draft := newPost(t, s, u.ID, "Closed", content.StatusDraft)
		c := must(s.Content.CreateComment(ctx, content.Comment{ID: newID(), PostID: pub.ID, AuthorID: u.ID, Body: "Nice"}))(t)
		if c.CreatedAt.IsZero() {
			t.Fatal("no creation time")
		}
		_, err := s.Content.CreateComment(ctx, content.Comment{ID: newID(), PostID: draft.ID, AuthorID: u.ID, Body: "No"})
		wantNotFound(t, err, "post")
		got := must(s.Content.Comment(ctx, c.ID))(t)
		if got.Body != "Nice" || got.PostID != pub.ID {
			t.Fatalf("read %+v", got)
		}
		list := must(s.Content.ListComments(ctx, pub.ID, page.Request{Sort: "created_at", Limit: 10}))(t)
		if len(list.Items) != 1 {
			t.Fatalf("listed %d comments", len(list.Items))
		}
		check(t, s.Content.DeleteComment(ctx, c.ID))
		_, err = s.Content.Comment(ctx, c.ID)
		wantNotFound(t, err, "comment")
		wantNotFound(t, s.Content.DeleteComment(ctx, c.ID), "comment")
	}},
	{"post lists filter by tag and visibility; tags count published posts", func(t *testing.T, s Stores) {
		u := newUser(t, s, "tagger-"+newID().String()+"@example.com")
		tag := "t" + newID().String()[:8]
		newPost(t, s, u.ID, "One", content.StatusPublished, tag)
		newPost(t, s, u.ID, "Two", content.StatusPublished, tag)
		newPost(t, s, u.ID, "Hidden", content.StatusDraft, tag)
		anon := must(s.Content.ListPosts(ctx, content.Filter{Tag: tag}, page.Request{Sort: "-published_at", Limit: 10}))(t)
		own := must(s.Content.ListPosts(ctx, content.Filter{Tag: tag, ViewerID: &u.ID}, page.Request{Sort: "-published_at", Limit: 10}))(t)
		if len(anon.Items) != 2 || len(own.Items) != 3 {
			t.Fatalf("anonymous saw %d, the author %d", len(anon.Items), len(own.Items))
		}
		tags := must(s.Content.ListTags(ctx, page.Request{Sort: "name", Limit: 100}))(t)
		for !tags.HasMore || len(tags.Items) > 0 {
			for _, tc := range tags.Items {
				if tc.Name == tag {
					if tc.Count != 2 {
						t.Fatalf("tag counted %d posts, want 2", tc.Count)
					}
					return
				}
			}
			if !tags.HasMore {
				break
			}
			tags = must(s.Content.ListTags(ctx, page.Request{Sort: "name", Limit: 100, Cursor: tags.NextCursor}))(t)
		}
		t.Fatalf("tag %s not listed", tag)
	}},
}
