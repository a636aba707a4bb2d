package slug

import (
	"strings"
	"testing"
)

func TestMake(t *testing.T) {
	tests := map[string]string{
		"Sencha Green Tea":       "sencha-green-tea",
		"Crème Brûlée: 2 Ways!":  "creme-brulee-2-ways",
		"  --Hello,   World--  ": "hello-world",
		"日本茶":                    "item",
		"":                       "item",
		"a/b\\c?d":               "a-b-c-d",
	}
	for in, want := range tests {
		if got := Make(in); got != want {
			t.Errorf("Make(%q) = %q, want %q", in, got, want)
		}
	}
	if got := Make(strings.Repeat("ab ", 100)); len(got) > MaxLen || strings.HasSuffix(got, "-") {
		t.Errorf("long slug %q (%d)", got, len(got))
	}
}

func TestFree(t *testing.T) {
	tests := []struct {
		taken []string
		want  string
	}{
		{nil, "tea"},
		{[]string{"tea"}, "tea-2"},
		{[]string{"tea", "tea-2", "tea-7"}, "tea-8"},
		{[]string{"tea-2"}, "tea"},
		{[]string{"tea", "tea-time"}, "tea-2"},
	}
	for _, tt := range tests {
		if got := Free("tea", tt.taken); got != tt.want {
			t.Errorf("Free(%v) = %q, want %q", tt.taken, got, tt.want)
		}
	}
}
