package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/content"
	"github.com/storefront/storefront/internal/page"
)

// ContentStore implements content.Store.
type ContentStore struct{ *DB }

var _ content.Store = (*ContentStore)(nil)

// NewContentStore returns a store over the pool.
func NewContentStore(d *DB) *ContentStore { return &ContentStore{d} }

func postFromRow(r db.GetPostRow) content.Post {
	return content.Post{ID: r.PublicID, AuthorID: r.AuthorPublicID, Title: r.Title, Slug: r.Slug, Body: r.Body,
		Excerpt: r.Excerpt, Status: content.Status(r.Status), Tags: r.Tags, PublishedAt: r.PublishedAt,
		Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func postSlugs(ctx context.Context) func(*db.Queries, string) ([]string, error) {
	return func(q *db.Queries, base string) ([]string, error) { return q.PostSlugsLike(ctx, base) }
}

func tagsOrEmpty(tags []string) []string {
	if tags == nil {
		return []string{}
	}
	return tags
}

func (s *ContentStore) CreatePost(ctx context.Context, p content.Post, baseSlug string) (content.Post, error) {
	err := s.withFreeSlug(ctx, baseSlug, "", "posts_slug_live_key", postSlugs(ctx), func(q *db.Queries, sl string) error {
		return q.CreatePost(ctx, db.CreatePostParams{PublicID: p.ID, AuthorPublicID: p.AuthorID, Title: p.Title, Slug: sl,
			Body: p.Body, Excerpt: p.Excerpt, Status: string(p.Status), Tags: tagsOrEmpty(p.Tags), PublishedAt: p.PublishedAt})
	})
	if err != nil {
		return content.Post{}, translate(err, "post")
	}
	return s.Post(ctx, p.ID)
}

func (s *ContentStore) Post(ctx context.Context, id uuid.UUID) (content.Post, error) {
	row, err := s.rq(ctx).GetPost(ctx, id)
	if err != nil {
		return content.Post{}, translate(err, "post")
	}
	return postFromRow(row), nil
}

func (s *ContentStore) LockPost(ctx context.Context, id uuid.UUID) (content.Post, error) {
	row, err := s.q(ctx).LockPost(ctx, id)
	if err != nil {
		return content.Post{}, translate(err, "post")
	}
	return postFromRow(db.GetPostRow(row)), nil
}

func (s *ContentStore) UpdatePost(ctx context.Context, p content.Post, baseSlug string) (content.Post, error) {
	err := s.withFreeSlug(ctx, baseSlug, p.Slug, "posts_slug_live_key", postSlugs(ctx), func(q *db.Queries, sl string) error {
		return q.UpdatePost(ctx, db.UpdatePostParams{PublicID: p.ID, Title: p.Title, Slug: sl, Body: p.Body,
			Excerpt: p.Excerpt, Status: string(p.Status), Tags: tagsOrEmpty(p.Tags), PublishedAt: p.PublishedAt})
	})
	if err != nil {
		return content.Post{}, translate(err, "post")
	}
	return s.Post(ctx, p.ID)
}

func (s *ContentStore) DeletePost(ctx context.Context, id uuid.UUID) error {
	_, err := s.q(ctx).SoftDeletePost(ctx, id)
	return translate(err, "post")
}

// neverPublished sorts unpublished posts before every published one (after them when descending), and
// keeps the keyset comparison free of NULLs.
const neverPublished = "'0001-01-01 00:00:00+00'::timestamptz"

var postSorts = map[string]sortColumn{
	"published_at": {expr: "coalesce(p.published_at, " + neverPublished + ")", kind: kindTime},
	"created_at":   {expr: "p.created_at", kind: kindTime},
	"title":        {expr: "p.title", kind: kindText},
	"relevance":    {expr: "ts_rank(p.search, websearch_to_tsquery('english', $1))::float8", kind: kindFloat},
}

const postColumns = `p.id, p.public_id, u.public_id, p.title, p.slug, p.body, p.excerpt, p.status, p.tags,
	p.published_at, p.version, p.created_at, p.updated_at`

func (s *ContentStore) ListPosts(ctx context.Context, f content.Filter, req page.Request) (page.Page[content.Post], error) {
	q := newListQuery("posts p JOIN users u ON u.id = p.author_id", postColumns, postSorts)
	q.countTable, q.idExpr, q.mayLag = "posts p", "p.public_id", true
	q.base("p.deleted_at IS NULL")
	if f.Q != "" {
		// $1 is the search query: the relevance sort refers to it.
		q.where("p.search @@ websearch_to_tsquery('english', $?)", f.Q)
	} else if trimDesc(req.Sort) == "relevance" { // the domain refuses it; the SQL would read $1 as the query
		return page.Page[content.Post]{}, apperr.Internal(errors.New("relevance sort without a search query"))
	}
	// Visibility: moderators see every post; others published posts and their own.
	switch {
	case f.Moderator:
	case f.ViewerID != nil:
		q.where("(p.status = 'published' OR p.author_id = (SELECT id FROM users WHERE public_id = $?))", *f.ViewerID)
	default:
		q.base("p.status = 'published'") // a literal, so the partial indexes on published posts apply
	}
	if f.Status != "" {
		q.where("p.status = $?", string(f.Status))
	}
	if f.AuthorID != nil {
		q.where("p.author_id = (SELECT id FROM users WHERE public_id = $?)", *f.AuthorID)
	}
	if f.Tag != "" {
		q.where("p.tags @> ARRAY[$?::text]", f.Tag)
	}
	if f.Slug != "" {
		q.where("p.slug = $?", f.Slug)
	}
	if req.Sort == "relevance" {
		req.Sort = "-relevance" // best match first
	}
	return runList(ctx, s.DB, q, req, scanPost, postFromRow, func(p content.Post) uuid.UUID { return p.ID })
}

func scanPost(row pgx.Row, key *any) (db.GetPostRow, error) {
	var r db.GetPostRow
	err := row.Scan(&r.ID, &r.PublicID, &r.AuthorPublicID, &r.Title, &r.Slug, &r.Body, &r.Excerpt, &r.Status, &r.Tags,
		&r.PublishedAt, &r.Version, &r.CreatedAt, &r.UpdatedAt, key)
	return r, err
}

func commentFromRow(r db.GetCommentRow) content.Comment {
	return content.Comment{ID: r.PublicID, PostID: r.PostPublicID, AuthorID: r.AuthorPublicID, Body: r.Body, CreatedAt: r.CreatedAt}
}

func (s *ContentStore) CreateComment(ctx context.Context, c content.Comment) (content.Comment, error) {
	// In a unit of work, like every write: its commit records the author's write position (replicas).
	var created time.Time
	err := s.InTx(ctx, func(ctx context.Context) (err error) {
		created, err = s.q(ctx).CreateComment(ctx, db.CreateCommentParams{PublicID: c.ID, PostPublicID: c.PostID,
			AuthorPublicID: c.AuthorID, Body: c.Body})
		return err
	})
	if err != nil { // no row: the post is no longer live and published
		return content.Comment{}, translate(err, "post")
	}
	c.CreatedAt = created
	return c, nil
}

func (s *ContentStore) Comment(ctx context.Context, id uuid.UUID) (content.Comment, error) {
	row, err := s.rq(ctx).GetComment(ctx, id)
	if err != nil {
		return content.Comment{}, translate(err, "comment")
	}
	return commentFromRow(row), nil
}

func (s *ContentStore) DeleteComment(ctx context.Context, id uuid.UUID) error {
	var n int64
	err := s.InTx(ctx, func(ctx context.Context) (err error) {
		n, err = s.q(ctx).SoftDeleteComment(ctx, id)
		return err
	})
	return deleted(n, err, "comment")
}

var commentSorts = map[string]sortColumn{"created_at": {expr: "c.created_at", kind: kindTime}}

func (s *ContentStore) ListComments(ctx context.Context, postID uuid.UUID, req page.Request) (page.Page[content.Comment], error) {
	q := newListQuery("comments c JOIN posts p ON p.id = c.post_id JOIN users u ON u.id = c.author_id",
		"c.public_id, p.public_id, u.public_id, c.body, c.created_at", commentSorts)
	q.countTable, q.idExpr, q.mayLag = "comments c", "c.public_id", true
	q.base("c.deleted_at IS NULL")
	q.where("c.post_id = (SELECT id FROM posts WHERE public_id = $?)", postID)
	return runList(ctx, s.DB, q, req, func(row pgx.Row, key *any) (db.GetCommentRow, error) {
		var r db.GetCommentRow
		err := row.Scan(&r.PublicID, &r.PostPublicID, &r.AuthorPublicID, &r.Body, &r.CreatedAt, key)
		return r, err
	}, commentFromRow, func(c content.Comment) uuid.UUID { return c.ID })
}

// ListTags pages through tags by name; the cursor holds the last tag.
func (s *ContentStore) ListTags(ctx context.Context, req page.Request) (page.Page[content.TagCount], error) {
	var after *string
	if req.Cursor != "" {
		pos, err := s.cursors.decode(req.Cursor, req.Sort)
		if err != nil {
			return page.Page[content.TagCount]{}, err
		}
		a, err := keyOf(pos, kindText)
		if err != nil {
			return page.Page[content.TagCount]{}, err
		}
		tag := a.(string)
		after = &tag
	}
	rows, err := s.rq(ctx).ListTags(ctx, db.ListTagsParams{After: after, MaxRows: int32(req.Limit + 1)})
	if err != nil {
		return page.Page[content.TagCount]{}, translate(err, "tag")
	}
	out := page.Page[content.TagCount]{Limit: req.Limit, Items: make([]content.TagCount, 0, len(rows))}
	for i, r := range rows {
		if i == req.Limit {
			out.HasMore = true
			if out.NextCursor, err = s.cursors.encode(req.Sort, rows[i-1].Name, uuid.Nil); err != nil {
				return page.Page[content.TagCount]{}, apperr.Internal(err)
			}
			break
		}
		out.Items = append(out.Items, content.TagCount{Name: r.Name, Count: r.PostCount})
	}
	return out, nil
}
