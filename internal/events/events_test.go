package events

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/page"
	"github.com/storefront/storefront/internal/uow"
)

func TestChangedFields(t *testing.T) {
	for name, c := range map[string]struct {
		before, after string
		want          []string
	}{
		"one field":        {`{"a":1,"b":"x","updated_at":"t1"}`, `{"a":2,"b":"x","updated_at":"t2"}`, []string{"a"}},
		"only updated_at":  {`{"a":1,"updated_at":"t1"}`, `{"a":1,"updated_at":"t2"}`, nil},
		"nested and added": {`{"m":{"k":1}}`, `{"m":{"k":2},"n":true}`, []string{"m", "n"}},
		"optional cleared": {`{"a":1,"d":"x"}`, `{"a":1}`, []string{"d"}},
		"sorted by name":   {`{"z":1,"a":1}`, `{"z":2,"a":2}`, []string{"a", "z"}},
	} {
		got, err := changedFields(json.RawMessage(c.before), json.RawMessage(c.after))
		if err != nil || !slices.Equal(got, c.want) {
			t.Errorf("%s: %v %v, want %v", name, got, err, c.want)
		}
	}
}

type memStore struct{ got []Event }

func (m *memStore) InsertEvent(_ context.Context, e Event) error {
	m.got = append(m.got, e)
	return nil
}
func (m *memStore) Event(context.Context, uuid.UUID) (Event, error) {
	return Event{}, apperr.NotFound("event")
}
func (m *memStore) ListEvents(context.Context, Filter, page.Request) (page.Page[Event], error) {
	return page.Page[Event]{}, nil
}

type subscriber func(context.Context, Event) error

func (s subscriber) Subscribed(ctx context.Context, e Event) error { return s(ctx, e) }

func TestPublish(t *testing.T) {
	store := &memStore{}
	render := func(r any) (json.RawMessage, error) { return json.Marshal(r) }
	o := NewOutbox(store, render, func(context.Context) Origin { return Origin{RequestID: "rid", TraceParent: "tp"} })
	var told []Type
	o.Subscribe(subscriber(func(_ context.Context, e Event) error { told = append(told, e.Type); return nil }))
	id := uuid.New()

	if err := o.Publish(context.Background(), Change{Type: OrderPaid, ResourceID: id, Resource: map[string]int{"a": 1}}); !apperr.IsKind(err, apperr.KindInternal) {
		t.Fatalf("outside a unit of work: %v", err)
	}
	ctx, unit := uow.Begin(context.Background(), "tx")
	defer unit.End(false)
	if err := o.Publish(ctx, Change{Type: OrderPaid, ResourceID: id, Resource: map[string]int{"a": 1}}); err != nil {
		t.Fatal(err)
	}
	if err := o.Publish(ctx, Change{Type: ProductUpdated, ResourceID: id, Resource: map[string]int{"a": 1}, Previous: map[string]int{"a": 1}}); err != nil {
		t.Fatal(err)
	}
	if err := o.Publish(ctx, Change{Type: ProductUpdated, ResourceID: id, Resource: map[string]int{"a": 2}, Previous: map[string]int{"a": 1}}); err != nil {
		t.Fatal(err)
	}
	if len(store.got) != 2 || !slices.Equal(told, []Type{OrderPaid, ProductUpdated}) {
		t.Fatalf("recorded %+v, told %v (an update that changes nothing records nothing)", store.got, told)
	}
	e := store.got[1]
	if e.ID.Version() != 7 || e.RequestID != "rid" || e.TraceParent != "tp" || !slices.Equal(e.ChangedFields, []string{"a"}) ||
		string(e.Data) != `{"a":2}` || e.CreatedAt.IsZero() {
		t.Fatalf("event %+v", e)
	}

	failing := NewOutbox(store, func(any) (json.RawMessage, error) { return nil, errors.New("no converter") }, nil)
	if err := failing.Publish(ctx, Change{Type: OrderPaid, Resource: 1}); !apperr.IsKind(err, apperr.KindInternal) {
		t.Fatalf("render failure: %v", err)
	}
}

func TestTypes(t *testing.T) {
	if !OrderPaid.Valid() || Type("order.exploded").Valid() || len(Types) != 11 {
		t.Fatal("types")
	}
}
