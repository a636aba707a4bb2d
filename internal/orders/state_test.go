package orders

import (
	"testing"

	"github.com/storefront/storefront/internal/apperr"
)

func TestStateMachine(t *testing.T) {
	all := []Status{StatusPending, StatusPaid, StatusShipped, StatusDelivered, StatusCancelled}
	allowed := map[Status]map[Transition]Status{
		StatusPending: {Pay: StatusPaid, Cancel: StatusCancelled},
		StatusPaid:    {Ship: StatusShipped, Cancel: StatusCancelled},
		StatusShipped: {Deliver: StatusDelivered},
	}
	for _, from := range all {
		for _, tr := range []Transition{Pay, Ship, Deliver, Cancel} {
			t.Run(string(from)+" "+string(tr), func(t *testing.T) {
				to, err := Next(from, tr)
				want, ok := allowed[from][tr]
				if ok {
					if err != nil || to != want {
						t.Fatalf("Next = %s, %v; want %s", to, err, want)
					}
					return
				}
				e, isApp := apperr.As(err)
				if !isApp || e.Code != "INVALID_STATE_TRANSITION" || e.Kind != apperr.KindConflict {
					t.Fatalf("Next = %s, %v; want INVALID_STATE_TRANSITION", to, err)
				}
				if want := "Cannot " + string(tr) + " an order that is " + string(from) + "."; e.Message != want {
					t.Fatalf("message %q, want %q", e.Message, want)
				}
			})
		}
	}
}
