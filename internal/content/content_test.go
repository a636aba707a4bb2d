package content

import (
	"testing"

	"github.com/storefront/storefront/internal/apperr"
)

func TestTransitions(t *testing.T) {
	all := []Status{StatusDraft, StatusPublished, StatusArchived}
	allowed := map[[2]Status]bool{
		{StatusDraft, StatusPublished}:    true,
		{StatusPublished, StatusArchived}: true,
		{StatusArchived, StatusPublished}: true,
	}
	for _, from := range all {
		for _, to := range all {
			t.Run(string(from)+" to "+string(to), func(t *testing.T) {
				err := CheckTransition(from, to)
				if from == to || allowed[[2]Status{from, to}] {
					if err != nil {
						t.Fatalf("refused: %v", err)
					}
					return
				}
				if e, ok := apperr.As(err); !ok || e.Code != "INVALID_STATE_TRANSITION" {
					t.Fatalf("err = %v", err)
				}
			})
		}
	}
}

func TestValidate(t *testing.T) {
	long := make([]string, 11)
	for i := range long {
		long[i] = "t"
	}
	tests := []struct {
		name string
		f    Fields
		ok   bool
	}{
		{"ok", Fields{Title: "T", Body: "B", Tags: []string{"green-tea"}}, true},
		{"blank title", Fields{Title: "  ", Body: "B"}, false},
		{"eleven tags", Fields{Title: "T", Body: "B", Tags: long}, false},
		{"tag not a slug", Fields{Title: "T", Body: "B", Tags: []string{"Green Tea"}}, false},
		{"html kept as text", Fields{Title: "<script>alert(1)</script>", Body: "<b>hi</b>"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validate(tt.f); (err == nil) != tt.ok {
				t.Fatalf("validate = %v", err)
			}
		})
	}
	if got := uniqueTags([]string{"a", "b", "a"}); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("uniqueTags = %v", got)
	}
}
