package orders

import (
	"context"
	"fmt"
	"sync"

	"github.com/google/uuid"
)

// Charge asks a provider to take money for an order. IdempotencyKey is stable for the order: if our
// transaction fails after the provider charged, a retry must not charge twice, so providers are asked
// to deduplicate on it.
type Charge struct {
	OrderID        uuid.UUID
	AmountCents    int64
	Currency       string
	Method         string
	IdempotencyKey string
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
// Like a real provider it deduplicates charges on their idempotency key.
type Simulator struct {
	mu      sync.Mutex
	charged map[string]string // idempotency key → charge reference
}

var _ PaymentProvider = (*Simulator)(nil)

// NewSimulator returns the built-in provider.
func NewSimulator() *Simulator { return &Simulator{charged: map[string]string{}} }

// Payment methods the simulator knows.
const (
	MethodCardOK       = "pm_card_ok"
	MethodCardDeclined = "pm_card_declined"
)

func (*Simulator) Name() string { return "simulator" }

func (s *Simulator) Charge(_ context.Context, c Charge) (ChargeResult, error) {
	ref := "sim_ch_" + uuid.NewString()
	if c.Method == MethodCardOK {
		s.mu.Lock()
		defer s.mu.Unlock()
		if earlier, ok := s.charged[c.IdempotencyKey]; ok && c.IdempotencyKey != "" {
			return ChargeResult{Reference: earlier}, nil
		}
		s.charged[c.IdempotencyKey] = ref
		return ChargeResult{Reference: ref}, nil
	}
	{
		reason := "card_declined"
		if c.Method != MethodCardDeclined {
			reason = "unknown_payment_method"
		}
		return ChargeResult{Reference: ref, Declined: true, DeclineReason: reason}, nil
	}
}

func (*Simulator) Refund(_ context.Context, reference string, amountCents int64, _ string) error {
	if reference == "" || amountCents < 0 {
		return fmt.Errorf("simulator: nothing to refund")
	}
	return nil
}
