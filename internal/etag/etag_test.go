package etag

import "testing"

func ptr(s string) *string { return &s }

func TestConditions(t *testing.T) {
	tests := []struct {
		name        string
		header      *string
		version     int64
		allowsWrite bool
		notModified bool
	}{
		{"absent", nil, 3, true, false},
		{"same version", ptr(`"3"`), 3, true, true},
		{"stale version", ptr(`"2"`), 3, false, false},
		{"list containing current", ptr(`"1", "3"`), 3, true, true},
		{"wildcard", ptr("*"), 3, true, true},
		{"weak tag", ptr(`W/"3"`), 3, false, true},
		{"unquoted", ptr(`3`), 3, false, false},
		{"empty", ptr(""), 3, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Parse(tt.header)
			if got := c.AllowsWrite(tt.version); got != tt.allowsWrite {
				t.Errorf("AllowsWrite = %v, want %v", got, tt.allowsWrite)
			}
			if got := c.Present() && c.MatchWeak(tt.version); got != tt.notModified {
				t.Errorf("MatchWeak = %v, want %v", got, tt.notModified)
			}
		})
	}
	if Format(42) != `"42"` {
		t.Fatalf("Format(42) = %s", Format(42))
	}
}
