// Package migrations embeds the SQL migrations, which are also sqlc's schema input.
package migrations

import "embed"

// FS holds every migration file.
//
//go:embed *.sql
var FS embed.FS
