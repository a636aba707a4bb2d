package postgres

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/apperr"
)

// Page cursors are opaque and signed: base64url of the position (the sort it belongs to, the last row's
// sort key and public id, as JSON) followed by a truncated HMAC-SHA256 of it. A cursor the service did
// not issue — tampered, truncated, made up, or issued for another sort — fails the MAC or the strict
// decoding after it and answers 400, never reaching SQL. The key is derived from JWT_SECRET, so every
// instance of a deployment accepts the others' cursors.

// macLen is the length of a cursor's tag: 96 bits keep cursors short and forgery out of reach.
const macLen = 12

// cursorCodec signs and checks cursors.
type cursorCodec struct{ key []byte }

// newCursorCodec derives the cursor key from secret; without one (tests) it picks a random key.
func newCursorCodec(secret []byte) cursorCodec {
	if len(secret) == 0 {
		secret = make([]byte, 32)
		_, _ = rand.Read(secret)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("storefront page cursor v1"))
	return cursorCodec{key: m.Sum(nil)}
}

func (c cursorCodec) tag(payload []byte) []byte {
	m := hmac.New(sha256.New, c.key)
	m.Write(payload)
	return m.Sum(nil)[:macLen]
}

// position is what a cursor holds.
type position struct {
	Sort string          `json:"s"`
	Key  json.RawMessage `json:"k"`
	ID   uuid.UUID       `json:"id,omitempty"`
}

var errBadCursor = apperr.InvalidField("cursor", "is not a cursor of this list and sort")

// encode makes the cursor for the page after the row with sort key and public id.
func (c cursorCodec) encode(sort string, key any, id uuid.UUID) (string, error) {
	if t, ok := key.(time.Time); ok {
		key = t.UTC().Format(time.RFC3339Nano)
	}
	k, err := json.Marshal(key)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(position{Sort: sort, Key: k, ID: id})
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(append(payload, c.tag(payload)...)), nil
}

// decode checks raw's tag and that it belongs to sort, and returns its position; anything else is
// errBadCursor.
func (c cursorCodec) decode(raw, sort string) (position, error) {
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || len(b) <= macLen {
		return position{}, errBadCursor
	}
	payload, tag := b[:len(b)-macLen], b[len(b)-macLen:]
	if !hmac.Equal(tag, c.tag(payload)) {
		return position{}, errBadCursor
	}
	var p position
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || p.Sort != sort || !utf8.Valid(p.Key) {
		return position{}, errBadCursor
	}
	return p, nil
}

// keyOf reads a position's sort key as the column kind says.
func keyOf(p position, kind sortKind) (any, error) {
	var (
		err error
		out any
	)
	switch kind {
	case kindTime:
		var s string
		if err = json.Unmarshal(p.Key, &s); err == nil {
			var t time.Time
			t, err = time.Parse(time.RFC3339Nano, s)
			out = t
		}
	case kindInt:
		var n int64
		err = json.Unmarshal(p.Key, &n)
		out = n
	case kindFloat:
		var f float64
		err = json.Unmarshal(p.Key, &f)
		out = f
	default:
		var s string
		err = json.Unmarshal(p.Key, &s)
		out = s
	}
	if err != nil {
		return nil, errBadCursor
	}
	return out, nil
}
