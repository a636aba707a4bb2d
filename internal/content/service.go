package content

import (
	"context"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/audit"
	"github.com/storefront/storefront/internal/etag"
	"github.com/storefront/storefront/internal/events"
	"github.com/storefront/storefront/internal/page"
	"github.com/storefront/storefront/internal/slug"
	"github.com/storefront/storefront/internal/uow"
)

// Service holds the content rules.
type Service struct {
	store  Store
	tx     uow.Runner
	now    func() time.Time
	audit  audit.Recorder
	events events.Publisher
}

// NewService returns the content rules over a store, the unit of work it takes part in, and the outbox
// publishing and archiving are published to (in the change's unit of work).
func NewService(store Store, tx uow.Runner, publisher events.Publisher) *Service {
	return &Service{store: store, tx: tx, now: time.Now, audit: audit.Discard, events: publisher}
}

// RecordTo sets the audit log publications and moderation deletes are recorded in.
func (s *Service) RecordTo(r audit.Recorder) { s.audit = r }

// statusEvents names the event a post's move into a status publishes.
var statusEvents = map[Status]events.Type{StatusPublished: events.PostPublished, StatusArchived: events.PostArchived}

// moved records and publishes a post's move from status from (empty at creation): a publication goes
// to the audit log, and a move into a status partners hear of to the outbox, in the write's unit of work.
func (s *Service) moved(ctx context.Context, p access.Principal, from Status, post Post) error {
	if from == post.Status {
		return nil
	}
	if post.Status == StatusPublished {
		ch := audit.Changes{}.Set("title", post.Title)
		if from == "" {
			ch.Set("status", post.Status)
		} else {
			ch.Diff("status", from, post.Status)
		}
		if err := s.audit.Record(ctx, audit.Event{Action: audit.PostPublished, ResourceType: audit.ResourcePost, ResourceID: post.ID,
			Actor: p, Changes: ch}); err != nil {
			return err
		}
	}
	if t, ok := statusEvents[post.Status]; ok {
		return s.events.Publish(ctx, events.Change{Type: t, ResourceID: post.ID, Resource: post})
	}
	return nil
}

var (
	errPostNotFound   = apperr.NotFound("post")
	errCommentsClosed = apperr.New(apperr.KindConflict, "Comments are accepted on published posts only.")
)

func moderator(p *access.Principal) bool { return p != nil && p.Has(access.ScopePostsModerate) }

// canSee: published posts are public; drafts and archived posts belong to their author and moderators.
func canSee(p *access.Principal, post Post) bool {
	return post.Status == StatusPublished || p != nil && (p.UserID == post.AuthorID || moderator(p))
}

func canEdit(p *access.Principal, post Post) bool {
	return p != nil && (p.UserID == post.AuthorID || moderator(p))
}

var errNeedsPublish = apperr.New(apperr.KindForbidden, "Publishing needs scope "+access.ScopePostsPublish+".")

// Create writes a post by the caller, who must be userID.
func (s *Service) Create(ctx context.Context, p access.Principal, userID uuid.UUID, f Fields) (Post, error) {
	if userID != p.UserID {
		return Post{}, apperr.NotFound("user")
	}
	if err := validate(f); err != nil {
		return Post{}, err
	}
	post := Post{AuthorID: p.UserID, Title: f.Title, Body: f.Body, Excerpt: f.Excerpt, Tags: uniqueTags(f.Tags), Status: StatusDraft}
	if f.Status != nil {
		if err := s.moveTo(p, &post, *f.Status); err != nil {
			return Post{}, err
		}
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Post{}, apperr.Internal(err)
	}
	post.ID = id
	if post.Status == StatusDraft { // nothing to record or publish: no transaction needed
		return s.store.CreatePost(ctx, post, slug.Make(post.Title))
	}
	var out Post
	err = s.tx.InTx(ctx, func(ctx context.Context) (err error) {
		if out, err = s.store.CreatePost(ctx, post, slug.Make(post.Title)); err != nil {
			return err
		}
		return s.moved(ctx, p, "", out)
	})
	return out, err
}

// moveTo applies a status change: the workflow's rules, the publish scope, and a first-publish date.
func (s *Service) moveTo(p access.Principal, post *Post, to Status) error {
	if err := CheckTransition(post.Status, to); err != nil {
		return err
	}
	if to == StatusPublished && post.Status != StatusPublished {
		if !p.Has(access.ScopePostsPublish) {
			return errNeedsPublish
		}
		if post.PublishedAt == nil {
			now := s.now().UTC()
			post.PublishedAt = &now
		}
	}
	post.Status = to
	return nil
}

// Get returns a post the caller may see.
func (s *Service) Get(ctx context.Context, p *access.Principal, id uuid.UUID) (Post, error) {
	post, err := s.store.Post(ctx, id)
	if err != nil {
		return Post{}, err
	}
	if !canSee(p, post) {
		return Post{}, errPostNotFound
	}
	return post, nil
}

// List returns the posts the caller may see that match the filter.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter, req page.Request) (page.Page[Post], error) {
	if p != nil {
		f.ViewerID, f.Moderator = &p.UserID, moderator(p)
	}
	req, err := req.SortedBySearch(f.Q, "-published_at", PostSorts...)
	if err != nil {
		return page.Page[Post]{}, err
	}
	return s.store.ListPosts(ctx, f, req)
}

// Replace writes every field (PUT); a nil status keeps the current one.
func (s *Service) Replace(ctx context.Context, p access.Principal, id uuid.UUID, f Fields, ifMatch etag.Condition) (Post, error) {
	if err := validate(f); err != nil {
		return Post{}, err
	}
	return s.update(ctx, p, id, ifMatch, func(post *Post) error {
		post.Title, post.Body, post.Excerpt, post.Tags = f.Title, f.Body, f.Excerpt, uniqueTags(f.Tags)
		if f.Status != nil {
			return s.moveTo(p, post, *f.Status)
		}
		return nil
	})
}

// Update writes the fields sent (PATCH).
func (s *Service) Update(ctx context.Context, p access.Principal, id uuid.UUID, c Patch, ifMatch etag.Condition) (Post, error) {
	return s.update(ctx, p, id, ifMatch, func(post *Post) error {
		if c.Title != nil {
			post.Title = *c.Title
		}
		if c.Body != nil {
			post.Body = *c.Body
		}
		if c.Excerpt != nil {
			post.Excerpt = c.Excerpt
		}
		if c.Tags != nil {
			post.Tags = uniqueTags(*c.Tags)
		}
		if err := validate(Fields{Title: post.Title, Body: post.Body, Excerpt: post.Excerpt, Tags: post.Tags}); err != nil {
			return err
		}
		if c.Status != nil {
			return s.moveTo(p, post, *c.Status)
		}
		return nil
	})
}

func (s *Service) update(ctx context.Context, p access.Principal, id uuid.UUID, ifMatch etag.Condition, change func(*Post) error) (Post, error) {
	var out Post
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		post, err := s.store.LockPost(ctx, id)
		if err != nil {
			return err
		}
		if err := s.authorizeChange(&p, post, ifMatch); err != nil {
			return err
		}
		before := post
		if err := change(&post); err != nil {
			return err
		}
		base := ""
		if post.Title != before.Title {
			base = slug.Make(post.Title)
		}
		if out, err = s.store.UpdatePost(ctx, post, base); err != nil {
			return err
		}
		return s.moved(ctx, p, before.Status, out)
	})
	return out, err
}

// authorizeChange: 404 for posts the caller cannot see, 403 for visible posts of others, 412 when stale.
func (s *Service) authorizeChange(p *access.Principal, post Post, ifMatch etag.Condition) error {
	if !canSee(p, post) {
		return errPostNotFound
	}
	if !canEdit(p, post) {
		return apperr.New(apperr.KindForbidden, "Only the author or a moderator may change this post.")
	}
	return ifMatch.CheckWrite(post.Version, "post")
}

// Delete soft-deletes a post and its comments.
func (s *Service) Delete(ctx context.Context, p access.Principal, id uuid.UUID, ifMatch etag.Condition) error {
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		post, err := s.store.LockPost(ctx, id)
		if err != nil {
			return err
		}
		if err := s.authorizeChange(&p, post, ifMatch); err != nil {
			return err
		}
		if err := s.store.DeletePost(ctx, id); err != nil {
			return err
		}
		if post.AuthorID == p.UserID {
			return nil // an author removing their own post is not moderation
		}
		return s.audit.Record(ctx, audit.Event{Action: audit.PostDeleted, ResourceType: audit.ResourcePost, ResourceID: id, Actor: p,
			Changes: audit.Changes{"title": post.Title, "author_id": post.AuthorID.String(), "status": post.Status}})
	})
}

// Comments lists a visible post's comments, oldest first.
func (s *Service) Comments(ctx context.Context, p *access.Principal, postID uuid.UUID, req page.Request) (page.Page[Comment], error) {
	if _, err := s.Get(ctx, p, postID); err != nil {
		return page.Page[Comment]{}, err
	}
	req, err := req.Sorted("created_at", "created_at")
	if err != nil {
		return page.Page[Comment]{}, err
	}
	return s.store.ListComments(ctx, postID, req)
}

// Comment adds the caller's comment to a published post.
func (s *Service) Comment(ctx context.Context, p access.Principal, postID uuid.UUID, body string) (Comment, error) {
	if n := utf8.RuneCountInString(body); n < 1 || n > MaxComment || strings.TrimSpace(body) == "" {
		return Comment{}, apperr.InvalidField("body", "must be 1 to 5000 characters")
	}
	post, err := s.Get(ctx, &p, postID)
	if err != nil {
		return Comment{}, err
	}
	if post.Status != StatusPublished {
		return Comment{}, errCommentsClosed
	}
	id, err := uuid.NewV7()
	if err != nil {
		return Comment{}, apperr.Internal(err)
	}
	c, err := s.store.CreateComment(ctx, Comment{ID: id, PostID: postID, AuthorID: p.UserID, Body: body})
	if apperr.IsNotFound(err, "post") { // archived or deleted since it was read above
		return Comment{}, errCommentsClosed
	}
	return c, err
}

// DeleteComment removes a comment: its author, the post's author or a moderator.
func (s *Service) DeleteComment(ctx context.Context, p access.Principal, postID, commentID uuid.UUID) error {
	post, err := s.Get(ctx, &p, postID)
	if err != nil {
		return err
	}
	c, err := s.store.Comment(ctx, commentID)
	if err != nil {
		return err
	}
	if c.PostID != post.ID {
		return apperr.NotFound("comment")
	}
	if c.AuthorID != p.UserID && post.AuthorID != p.UserID && !moderator(&p) {
		return apperr.New(apperr.KindForbidden, "Only the comment's author, the post's author or a moderator may delete it.")
	}
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.DeleteComment(ctx, commentID); err != nil {
			return err
		}
		if c.AuthorID == p.UserID {
			return nil // an author removing their own comment is not moderation
		}
		return s.audit.Record(ctx, audit.Event{Action: audit.CommentDeleted, ResourceType: audit.ResourceComment, ResourceID: commentID,
			Actor: p, Changes: audit.Changes{"post_id": postID.String(), "author_id": c.AuthorID.String()}})
	})
}

// Tags lists tags of published posts with their counts, by name.
func (s *Service) Tags(ctx context.Context, req page.Request) (page.Page[TagCount], error) {
	req, err := req.Sorted("name", "name")
	if err != nil {
		return page.Page[TagCount]{}, err
	}
	return s.store.ListTags(ctx, req)
}
