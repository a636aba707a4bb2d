package orders

import (
	"testing"

	"github.com/google/uuid"

	"github.com/storefront/storefront/internal/apperr"
)

func TestPriceOrder(t *testing.T) {
	tea := StockedProduct{ID: uuid.New(), Name: "Tea", PriceCents: 600, Currency: "USD", Stock: 3, Active: true}
	cup := StockedProduct{ID: uuid.New(), Name: "Cup", PriceCents: 300, Currency: "USD", Stock: 1, Active: true}
	eur := StockedProduct{ID: uuid.New(), Name: "Euro tea", PriceCents: 2000, Currency: "EUR", Stock: 9, Active: true}
	off := StockedProduct{ID: uuid.New(), Name: "Off", PriceCents: 2000, Currency: "USD", Stock: 9}
	gone := StockedProduct{ID: uuid.New(), Name: "Gone", PriceCents: 2000, Currency: "USD", Stock: 9, Active: true, Deleted: true}
	ten := StockedProduct{ID: uuid.New(), Name: "Ten", PriceCents: 700, Currency: "USD", Stock: 9, Active: true}
	products := map[uuid.UUID]StockedProduct{tea.ID: tea, cup.ID: cup, eur.ID: eur, off.ID: off, gone.ID: gone, ten.ID: ten}

	tests := []struct {
		name     string
		lines    []Line
		code     string
		subtotal int64
	}{
		{"exactly the minimum", []Line{{ten.ID, 1}, {cup.ID, 1}}, "", 1000},
		{"ok", []Line{{tea.ID, 2}}, "", 1200},
		{"below the minimum", []Line{{tea.ID, 1}, {cup.ID, 1}}, "ORDER_MINIMUM_NOT_MET", 0},
		{"not enough stock", []Line{{tea.ID, 4}}, "INSUFFICIENT_STOCK", 0},
		{"mixed currencies", []Line{{tea.ID, 2}, {eur.ID, 1}}, "UNPROCESSABLE", 0},
		{"inactive", []Line{{off.ID, 1}}, "UNPROCESSABLE", 0},
		{"deleted", []Line{{gone.ID, 1}}, "UNPROCESSABLE", 0},
		{"unknown", []Line{{uuid.New(), 1}}, "UNPROCESSABLE", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, deltas, err := priceOrder(tt.lines, products)
			if tt.code == "" {
				if err != nil || o.SubtotalCents != tt.subtotal || o.TotalCents != tt.subtotal || len(deltas) != len(tt.lines) {
					t.Fatalf("order %+v deltas %v err %v", o, deltas, err)
				}
				for _, l := range tt.lines {
					if deltas[l.ProductID] != -l.Quantity {
						t.Fatalf("delta %d for %d ordered", deltas[l.ProductID], l.Quantity)
					}
				}
				return
			}
			e, ok := apperr.As(err)
			if !ok || string(e.Code) != tt.code || e.Kind != apperr.KindUnprocessable {
				t.Fatalf("err = %v, want %s", err, tt.code)
			}
		})
	}
}

func TestMergeLines(t *testing.T) {
	a, b := uuid.New(), uuid.New()
	got := mergeLines([]Line{{a, 1}, {b, 2}, {a, 3}})
	if len(got) != 2 || got[0] != (Line{a, 4}) || got[1] != (Line{b, 2}) {
		t.Fatalf("merged %v", got)
	}
}
