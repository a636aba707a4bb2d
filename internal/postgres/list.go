package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/storefront/storefront/gen/db"
	"github.com/storefront/storefront/internal/apperr"
	"github.com/storefront/storefront/internal/page"
)

// Keyset lists are built here rather than in sqlc: sqlc cannot vary ORDER BY or the direction of the
// keyset comparison, and one generated query per sort and direction would multiply every list by six.
// Only whitelisted column expressions reach the SQL text; every value is a bound parameter.

type sortKind int

const (
	kindTime sortKind = iota
	kindText
	kindInt
	kindFloat
)

type sortColumn struct {
	expr string
	kind sortKind
}

type listQuery struct {
	table      string // FROM clause of the page query
	countTable string // FROM clause of count queries; its first word is the relation estimates read
	idExpr     string // the public id column, the keyset tie-break
	columns    string
	sorts      map[string]sortColumn
	conds      []string
	args       []any
	filtered   bool
	mayLag     bool // a replica may answer (see DB.reads)
}

func newListQuery(table, columns string, sorts map[string]sortColumn) *listQuery {
	return &listQuery{table: table, countTable: table, idExpr: "public_id", columns: columns, sorts: sorts}
}

// base adds a condition every query on the table has (such as the soft-delete filter).
func (q *listQuery) base(cond string) { q.conds = append(q.conds, cond) }

// where adds a filter; each "$?" in cond takes the next argument.
func (q *listQuery) where(cond string, args ...any) {
	for _, a := range args {
		q.args = append(q.args, a)
		cond = strings.Replace(cond, "$?", "$"+strconv.Itoa(len(q.args)), 1)
	}
	q.conds = append(q.conds, cond)
	q.filtered = true
}

func (q *listQuery) whereSQL() string { return strings.Join(q.conds, " AND ") }

func trimDesc(sort string) string { return strings.TrimPrefix(sort, "-") }

// escapeLike makes user input literal inside a LIKE pattern.
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// runList fetches one page. scan reads a row's columns followed by its sort key; convert maps it to the
// domain type, which must expose its public ID through idOf.
func runList[R any, T any](ctx context.Context, d *DB, q *listQuery, req page.Request,
	scan func(pgx.Row, *any) (R, error), convert func(R) T, idOf func(T) uuid.UUID) (page.Page[T], error) {
	col, ok := q.sorts[trimDesc(req.Sort)]
	if !ok { // the domain checks sorts against its whitelist: this is a key the store lacks
		return page.Page[T]{}, apperr.Internal(fmt.Errorf("listing %s: no sort %q", q.table, req.Sort))
	}
	desc := strings.HasPrefix(req.Sort, "-")
	cmp, dir := ">", "ASC"
	if desc {
		cmp, dir = "<", "DESC"
	}

	conn := d.conn(ctx)
	if q.mayLag {
		conn = d.reads(ctx)
	}
	total, err := countList(ctx, conn, q, req.Count)
	if err != nil {
		return page.Page[T]{}, err
	}

	args := append([]any(nil), q.args...)
	where := q.whereSQL()
	if req.Cursor != "" {
		pos, err := d.cursors.decode(req.Cursor, req.Sort)
		if err != nil || pos.ID == uuid.Nil {
			return page.Page[T]{}, errBadCursor
		}
		key, err := keyOf(pos, col.kind)
		if err != nil {
			return page.Page[T]{}, err
		}
		args = append(args, key, pos.ID)
		where += fmt.Sprintf(" AND (%s, %s) %s ($%d, $%d)", col.expr, q.idExpr, cmp, len(args)-1, len(args))
	}
	args = append(args, req.Limit+1)
	sql := fmt.Sprintf("SELECT %s, %s FROM %s WHERE %s ORDER BY %s %s, %s %s LIMIT $%d",
		q.columns, col.expr, q.table, where, col.expr, dir, q.idExpr, dir, len(args))

	rows, err := conn.Query(ctx, sql, args...)
	if err != nil {
		return page.Page[T]{}, dbError(fmt.Errorf("listing %s: %w", q.table, err))
	}
	defer rows.Close()
	items := make([]T, 0, req.Limit)
	var lastKey any
	hasMore := false
	for rows.Next() {
		var key any
		r, err := scan(rows, &key)
		if err != nil {
			return page.Page[T]{}, dbError(fmt.Errorf("scanning %s: %w", q.table, err))
		}
		if len(items) == req.Limit {
			hasMore = true // the extra row only tells that there is a next page
			break
		}
		items = append(items, convert(r))
		lastKey = key
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return page.Page[T]{}, dbError(fmt.Errorf("listing %s: %w", q.table, err))
	}
	p := page.Page[T]{Items: items, Limit: req.Limit, HasMore: hasMore, Total: total}
	if hasMore {
		if p.NextCursor, err = d.cursors.encode(req.Sort, lastKey, idOf(items[len(items)-1])); err != nil {
			return page.Page[T]{}, apperr.Internal(err)
		}
	}
	return p, nil
}

// countList answers ?count: exact counts the matching rows; estimated reads the planner's estimate,
// from pg_class when the list is unfiltered and from EXPLAIN otherwise, at constant cost.
func countList(ctx context.Context, conn db.DBTX, q *listQuery, mode string) (*int64, error) {
	var n int64
	switch mode {
	case page.CountExact:
		sql := fmt.Sprintf("SELECT count(*) FROM %s WHERE %s", q.countTable, q.whereSQL())
		if err := conn.QueryRow(ctx, sql, q.args...).Scan(&n); err != nil {
			return nil, dbError(fmt.Errorf("counting %s: %w", q.table, err))
		}
	case page.CountEstimated:
		// pg_class only knows the whole table: good for an unconditioned list, otherwise ask the planner.
		if !q.filtered && (len(q.conds) == 0 || len(q.conds) == 1 && q.conds[0] == "true") {
			var f float64
			relation := strings.Fields(q.countTable)[0]
			err := conn.QueryRow(ctx, "SELECT reltuples FROM pg_class WHERE oid = $1::regclass", relation).Scan(&f)
			if err != nil {
				return nil, dbError(fmt.Errorf("estimating %s: %w", q.table, err))
			}
			if f >= 0 { // -1 means never analyzed; fall through to EXPLAIN
				n = int64(f)
				return &n, nil
			}
		}
		var plan []struct {
			Plan struct {
				Rows float64 `json:"Plan Rows"`
			} `json:"Plan"`
		}
		sql := fmt.Sprintf("EXPLAIN (FORMAT JSON) SELECT 1 FROM %s WHERE %s", q.countTable, q.whereSQL())
		var raw []byte
		if err := conn.QueryRow(ctx, sql, q.args...).Scan(&raw); err != nil {
			return nil, dbError(fmt.Errorf("estimating %s: %w", q.table, err))
		}
		if err := json.Unmarshal(raw, &plan); err != nil || len(plan) == 0 {
			return nil, apperr.Internal(fmt.Errorf("reading plan of %s: %v", q.table, err))
		}
		n = int64(plan[0].Plan.Rows)
	default:
		return nil, nil
	}
	return &n, nil
}
