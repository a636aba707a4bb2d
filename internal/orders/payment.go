package orders

import (
	"context"
	"fmt"

	"github.com/google/uuid"
)

// Charge asks a provider to take money for an order.
type Charge struct {
	OrderID     uuid.UUID
	AmountCents int64
	Currency    string
	Method      string
}

// ChargeResult is the provider's answer; a decline is an answer, not an error.
type ChargeResult struct {
	Reference     string
	Declined      bool
	DeclineReason string
}

// PaymentProvider takes and returns money. Errors mean the provider could not be asked.
type PaymentProvider interface {
	Name() string
	Charge(ctx context.Context, c Charge) (ChargeResult, error)
	Refund(ctx context.Context, reference string, amountCents int64, currency string) error
}

// Simulator is the built-in deterministic provider: pm_card_ok succeeds, every other method is declined.
type Simulator struct{}

var _ PaymentProvider = Simulator{}

// Payment methods the simulator knows.
const (
	MethodCardOK       = "pm_card_ok"
	MethodCardDeclined = "pm_card_declined"
)

func (Simulator) Name() string { return "simulator" }

func (Simulator) Charge(_ context.Context, c Charge) (ChargeResult, error) {
	ref := "sim_ch_" + uuid.NewString()
	if c.Method != MethodCardOK {
		reason := "card_declined"
		if c.Method != MethodCardDeclined {
			reason = "unknown_payment_method"
		}
		return ChargeResult{Reference: ref, Declined: true, DeclineReason: reason}, nil
	}
	return ChargeResult{Reference: ref}, nil
}

func (Simulator) Refund(_ context.Context, reference string, amountCents int64, _ string) error {
	if reference == "" || amountCents < 0 {
		return fmt.Errorf("simulator: nothing to refund")
	}
	return nil
}
