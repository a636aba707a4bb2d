package postgres

import "math"

// PretendUsable stops r's monitor and marks every replica usable and caught up, as the last check
// before a replica went away would have (for tests of package postgres_test).
func PretendUsable(r *Replicas) {
	r.stop()
	<-r.done
	for _, n := range r.nodes {
		n.usable.Store(true)
		n.replayed.Store(math.MaxUint64)
	}
}
