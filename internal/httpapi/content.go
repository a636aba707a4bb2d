package httpapi

import (
	"context"

	"github.com/google/uuid"

	"github.com/storefront/storefront/gen/api"
	"github.com/storefront/storefront/internal/access"
	"github.com/storefront/storefront/internal/content"
	"github.com/storefront/storefront/internal/etag"
	"github.com/storefront/storefront/internal/page"
)

// viewer is the caller of an operation that also admits anonymous callers.
func viewer(ctx context.Context) *access.Principal {
	if p, ok := access.PrincipalFrom(ctx); ok {
		return &p
	}
	return nil
}

// contentCache: anonymous readers only ever see published posts, which shared caches may keep briefly.
func contentCache(p *access.Principal) string {
	if p == nil {
		return publicCache
	}
	return privateRevalidate
}

func postOK(p content.Post, cache string) api.PostOKJSONResponse {
	return api.PostOKJSONResponse{Body: api.PostResponse{Data: toAPIPost(p)},
		Headers: api.PostOKResponseHeaders{ETag: etag.Format(p.Version), CacheControl: cache}}
}

// postListResult is a page of posts and the Cache-Control it is served with.
type postListResult struct {
	Body         api.PostList
	CacheControl string
}

// postQuery is the list parameters both post lists share.
type postQuery struct {
	q, sort, cursor, count *string
	tag, slug              *string
	status                 *api.PostStatus
	limit                  *int32
}

func (s *Server) listPosts(ctx context.Context, author *uuid.UUID, pq postQuery) (postListResult, error) {
	p := viewer(ctx)
	f := content.Filter{AuthorID: author, Q: deref(pq.q), Tag: deref(pq.tag), Slug: deref(pq.slug), Status: content.Status(deref(pq.status))}
	res, err := s.deps.Content.List(ctx, p, f, pageRequest(pq.sort, pq.limit, pq.cursor, pq.count))
	if err != nil {
		return postListResult{}, err
	}
	return postList(res, contentCache(p)), nil
}

func postList(res page.Page[content.Post], cache string) postListResult {
	data := make([]api.Post, 0, len(res.Items))
	for _, p := range res.Items {
		data = append(data, toAPIPost(p))
	}
	return postListResult{Body: api.PostList{Data: data, Meta: toAPIMeta(res)}, CacheControl: cache}
}

func (s *Server) ListPosts(ctx context.Context, req api.ListPostsRequestObject) (api.ListPostsResponseObject, error) {
	prm := req.Params
	out, err := s.listPosts(ctx, prm.AuthorId, postQuery{q: prm.Q, sort: (*string)(prm.Sort), cursor: prm.Cursor,
		count: (*string)(prm.Count), tag: prm.Tag, slug: prm.Slug, status: prm.Status, limit: prm.Limit})
	if err != nil {
		return nil, err
	}
	return api.ListPosts200JSONResponse{Body: out.Body, Headers: api.ListPosts200ResponseHeaders{CacheControl: out.CacheControl}}, nil
}

func (s *Server) ListUserPosts(ctx context.Context, req api.ListUserPostsRequestObject) (api.ListUserPostsResponseObject, error) {
	prm := req.Params
	out, err := s.listPosts(ctx, &req.UserId, postQuery{q: prm.Q, sort: (*string)(prm.Sort), cursor: prm.Cursor,
		count: (*string)(prm.Count), tag: prm.Tag, slug: prm.Slug, status: prm.Status, limit: prm.Limit})
	if err != nil {
		return nil, err
	}
	return api.ListUserPosts200JSONResponse{Body: out.Body, Headers: api.ListUserPosts200ResponseHeaders{CacheControl: out.CacheControl}}, nil
}

func postFields(b api.PostCreate) content.Fields {
	return content.Fields{Title: b.Title, Body: b.Body, Excerpt: b.Excerpt, Tags: deref(b.Tags), Status: (*content.Status)(b.Status)}
}

func (s *Server) CreatePost(ctx context.Context, req api.CreatePostRequestObject) (api.CreatePostResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	post, err := s.deps.Content.Create(ctx, p, req.UserId, postFields(*req.Body))
	if err != nil {
		return nil, err
	}
	return api.CreatePost201JSONResponse{Body: api.PostResponse{Data: toAPIPost(post)},
		Headers: api.CreatePost201ResponseHeaders{ETag: etag.Format(post.Version), Location: "/v1/posts/" + post.ID.String()}}, nil
}

func (s *Server) GetPost(ctx context.Context, req api.GetPostRequestObject) (api.GetPostResponseObject, error) {
	p := viewer(ctx)
	post, err := s.deps.Content.Get(ctx, p, req.PostId)
	if err != nil {
		return nil, err
	}
	if m := etag.Parse(req.Params.IfNoneMatch); m.Present() && m.MatchWeak(post.Version) {
		return api.GetPost304Response{Headers: api.NotModifiedResponseHeaders{ETag: etag.Format(post.Version)}}, nil
	}
	return api.GetPost200JSONResponse{PostOKJSONResponse: postOK(post, contentCache(p))}, nil
}

func (s *Server) ReplacePost(ctx context.Context, req api.ReplacePostRequestObject) (api.ReplacePostResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	post, err := s.deps.Content.Replace(ctx, p, req.PostId, postFields(*req.Body), etag.Parse(req.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.ReplacePost200JSONResponse{PostOKJSONResponse: postOK(post, privateRevalidate)}, nil
}

func (s *Server) UpdatePost(ctx context.Context, req api.UpdatePostRequestObject) (api.UpdatePostResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	b := req.Body
	post, err := s.deps.Content.Update(ctx, p, req.PostId, content.Patch{Title: b.Title, Body: b.Body, Excerpt: b.Excerpt,
		Tags: b.Tags, Status: (*content.Status)(b.Status)}, etag.Parse(req.Params.IfMatch))
	if err != nil {
		return nil, err
	}
	return api.UpdatePost200JSONResponse{PostOKJSONResponse: postOK(post, privateRevalidate)}, nil
}

func (s *Server) DeletePost(ctx context.Context, req api.DeletePostRequestObject) (api.DeletePostResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.deps.Content.Delete(ctx, p, req.PostId, etag.Parse(req.Params.IfMatch)); err != nil {
		return nil, err
	}
	return api.DeletePost204Response{}, nil
}

func (s *Server) ListComments(ctx context.Context, req api.ListCommentsRequestObject) (api.ListCommentsResponseObject, error) {
	p := viewer(ctx)
	prm := req.Params
	res, err := s.deps.Content.Comments(ctx, p, req.PostId, pageRequest(nil, prm.Limit, prm.Cursor, (*string)(prm.Count)))
	if err != nil {
		return nil, err
	}
	data := make([]api.Comment, 0, len(res.Items))
	for _, c := range res.Items {
		data = append(data, toAPIComment(c))
	}
	return api.ListComments200JSONResponse{Body: api.CommentList{Data: data, Meta: toAPIMeta(res)},
		Headers: api.ListComments200ResponseHeaders{CacheControl: contentCache(p)}}, nil
}

func (s *Server) CreateComment(ctx context.Context, req api.CreateCommentRequestObject) (api.CreateCommentResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	c, err := s.deps.Content.Comment(ctx, p, req.PostId, req.Body.Body)
	if err != nil {
		return nil, err
	}
	return api.CreateComment201JSONResponse{Body: api.CommentResponse{Data: toAPIComment(c)},
		Headers: api.CreateComment201ResponseHeaders{Location: "/v1/posts/" + c.PostID.String() + "/comments/" + c.ID.String()}}, nil
}

func (s *Server) DeleteComment(ctx context.Context, req api.DeleteCommentRequestObject) (api.DeleteCommentResponseObject, error) {
	p, err := principal(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.deps.Content.DeleteComment(ctx, p, req.PostId, req.CommentId); err != nil {
		return nil, err
	}
	return api.DeleteComment204Response{}, nil
}

func (s *Server) ListTags(ctx context.Context, req api.ListTagsRequestObject) (api.ListTagsResponseObject, error) {
	res, err := s.deps.Content.Tags(ctx, pageRequest(nil, req.Params.Limit, req.Params.Cursor, nil))
	if err != nil {
		return nil, err
	}
	data := make([]api.TagCount, 0, len(res.Items))
	for _, t := range res.Items {
		data = append(data, api.TagCount{Name: t.Name, PostCount: t.Count})
	}
	return api.ListTags200JSONResponse{Body: api.TagList{Data: data, Meta: toAPIMeta(res)},
		Headers: api.ListTags200ResponseHeaders{CacheControl: publicCache}}, nil
}

func toAPIPost(p content.Post) api.Post {
	tags := p.Tags
	if tags == nil {
		tags = []string{}
	}
	return api.Post{Id: p.ID, AuthorId: p.AuthorID, Title: p.Title, Slug: p.Slug, Body: p.Body, Excerpt: p.Excerpt,
		Status: api.PostStatus(p.Status), Tags: tags, PublishedAt: utc(p.PublishedAt),
		CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
}

func toAPIComment(c content.Comment) api.Comment {
	return api.Comment{Id: c.ID, PostId: c.PostID, AuthorId: c.AuthorID, Body: c.Body, CreatedAt: c.CreatedAt.UTC()}
}
