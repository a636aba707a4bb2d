// Package slug derives URL slugs from names and titles and picks a free one when a slug is taken.
package slug

import (
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// MaxLen bounds a slug, leaving room for a numeric suffix within the spec's 120 characters.
const MaxLen = 100

// Make turns "Crème Brûlée: 2 Ways!" into "creme-brulee-2-ways". Text with no letters or digits gives "item".
func Make(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r): // combining accents left over by NFKD
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
		if b.Len() >= MaxLen {
			break
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > MaxLen {
		out = strings.Trim(out[:MaxLen], "-")
	}
	if out == "" {
		return "item"
	}
	return out
}

// Free returns base if it is not taken, else base-N with N one more than the largest suffix in use.
func Free(base string, taken []string) string {
	used := false
	highest := 1
	for _, t := range taken {
		if t == base {
			used = true
			continue
		}
		if n, err := strconv.Atoi(strings.TrimPrefix(t, base+"-")); err == nil && strings.HasPrefix(t, base+"-") && n > highest {
			highest = n
		}
	}
	if !used {
		return base
	}
	return base + "-" + strconv.Itoa(highest+1)
}
