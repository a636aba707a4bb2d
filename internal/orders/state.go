// Package orders owns orders: placing them without overselling, their state machine, and payments
// through a PaymentProvider.
package orders

import (
	"fmt"

	"github.com/storefront/storefront/internal/apperr"
)

// Status is where an order is in its life.
type Status string

const (
	StatusPending   Status = "pending"
	StatusPaid      Status = "paid"
	StatusShipped   Status = "shipped"
	StatusDelivered Status = "delivered"
	StatusCancelled Status = "cancelled"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusPending, StatusPaid, StatusShipped, StatusDelivered, StatusCancelled:
		return true
	}
	return false
}

// Transition is something that happens to an order.
type Transition string

const (
	Pay     Transition = "pay"
	Ship    Transition = "ship"
	Deliver Transition = "deliver"
	Cancel  Transition = "cancel"
)

// transitions is the whole state machine: pending → paid → shipped → delivered, pending|paid → cancelled.
var transitions = map[Status]map[Transition]Status{
	StatusPending: {Pay: StatusPaid, Cancel: StatusCancelled},
	StatusPaid:    {Ship: StatusShipped, Cancel: StatusCancelled},
	StatusShipped: {Deliver: StatusDelivered},
}

// Next is the state after t, or 409 INVALID_STATE_TRANSITION naming the current state.
func Next(from Status, t Transition) (Status, error) {
	if to, ok := transitions[from][t]; ok {
		return to, nil
	}
	return "", apperr.InvalidTransition(fmt.Sprintf("Cannot %s an order that is %s.", t, from))
}
