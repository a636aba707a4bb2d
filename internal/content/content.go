// Package content owns posts, comments and tags: who may see and change them, the publishing workflow,
// and the Store they need.
package content

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/page"
)

// Status is where a post is in its life.
type Status string

const (
	StatusDraft     Status = "draft"
	StatusPublished Status = "published"
	StatusArchived  Status = "archived"
)

// transitions is the publishing workflow: draft → published → archived, and archived → published.
var transitions = map[Status][]Status{
	StatusDraft:     {StatusPublished},
	StatusPublished: {StatusArchived},
	StatusArchived:  {StatusPublished},
}

// CheckTransition allows staying put and the workflow's moves; anything else is 409 naming the state.
func CheckTransition(from, to Status) error {
	if from == to {
		return nil
	}
	for _, s := range transitions[from] {
		if s == to {
			return nil
		}
	}
	return apperr.InvalidTransition(fmt.Sprintf("The post is %s and cannot become %s.", from, to))
}

// Post is a piece of writing. Text is kept exactly as written.
type Post struct {
	ID          uuid.UUID
	AuthorID    uuid.UUID
	Title       string
	Slug        string
	Body        string
	Excerpt     *string
	Status      Status
	Tags        []string
	PublishedAt *time.Time
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Comment is a reader's reply to a published post.
type Comment struct {
	ID        uuid.UUID
	PostID    uuid.UUID
	AuthorID  uuid.UUID
	Body      string
	CreatedAt time.Time
}

// TagCount is a tag and how many published posts carry it.
type TagCount struct {
	Name  string
	Count int64
}

// Fields is a post's writable part as a create or PUT sends it; a nil Status keeps the current one.
type Fields struct {
	Title   string
	Body    string
	Excerpt *string
	Tags    []string
	Status  *Status
}

// Patch changes only the non-nil fields.
type Patch struct {
	Title, Body, Excerpt *string
	Tags                 *[]string
	Status               *Status
}

// Filter narrows a post list. Visibility is applied by the service, not by the caller.
type Filter struct {
	AuthorID *uuid.UUID
	Tag      string
	Status   Status
	Slug     string
	Q        string

	// Who is asking: nil for anonymous. Moderators see everything; others see published posts and
	// their own.
	ViewerID  *uuid.UUID
	Moderator bool
}

// PostSorts are the keys a post list can be ordered by; with a search query also "relevance".
var PostSorts = []string{"published_at", "created_at", "title"}

// Limits shared with the spec.
const (
	MaxTitle   = 200
	MaxBody    = 100000
	MaxExcerpt = 500
	MaxTags    = 10
	MaxComment = 5000
)

var tagPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

func validate(f Fields) error {
	var d []*apperr.Detail
	if n := utf8.RuneCountInString(f.Title); n < 1 || n > MaxTitle || strings.TrimSpace(f.Title) == "" {
		d = append(d, &apperr.Detail{Field: "title", Message: "must be 1 to 200 characters and not blank"})
	}
	if n := utf8.RuneCountInString(f.Body); n < 1 || n > MaxBody {
		d = append(d, &apperr.Detail{Field: "body", Message: "must be 1 to 100000 characters"})
	}
	if f.Excerpt != nil && utf8.RuneCountInString(*f.Excerpt) > MaxExcerpt {
		d = append(d, &apperr.Detail{Field: "excerpt", Message: "must be at most 500 characters"})
	}
	if len(f.Tags) > MaxTags {
		d = append(d, &apperr.Detail{Field: "tags", Message: "must have at most 10 tags"})
	}
	for i, t := range f.Tags {
		if len(t) > 50 || !tagPattern.MatchString(t) {
			d = append(d, &apperr.Detail{Field: fmt.Sprintf("tags[%d]", i), Message: "must be a lower-case slug such as green-tea"})
		}
	}
	return apperr.Collect(d...)
}

// uniqueTags drops repeats, keeping the first occurrence's position.
func uniqueTags(tags []string) []string {
	out := make([]string, 0, len(tags))
	seen := map[string]bool{}
	for _, t := range tags {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	return out
}

// Store is what the content rules need from storage.
type Store interface {
	CreatePost(ctx context.Context, p Post, baseSlug string) (Post, error)
	Post(ctx context.Context, id uuid.UUID) (Post, error)
	LockPost(ctx context.Context, id uuid.UUID) (Post, error)
	UpdatePost(ctx context.Context, p Post, baseSlug string) (Post, error)
	DeletePost(ctx context.Context, id uuid.UUID) error
	ListPosts(ctx context.Context, f Filter, req page.Request) (page.Page[Post], error)

	CreateComment(ctx context.Context, c Comment) (Comment, error)
	Comment(ctx context.Context, id uuid.UUID) (Comment, error)
	DeleteComment(ctx context.Context, id uuid.UUID) error
	ListComments(ctx context.Context, postID uuid.UUID, req page.Request) (page.Page[Comment], error)

	ListTags(ctx context.Context, req page.Request) (page.Page[TagCount], error)
}
