// Package metrics holds the one rule for registering Arbor's Prometheus
// collectors (docs/conventions.md): every package builds its collectors
// and passes each through Register.
package metrics

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Register registers c on reg and returns the collector to use:
//
//   - reg nil: c, unregistered (tests and embedders that want no metrics);
//   - registered: c;
//   - a collector with the same description is already registered (a second
//     actor of the same kind in one process, or a restarted one): that
//     existing collector, so both share one series set;
//   - any other error (a name reused with other labels or help): the error.
func Register[C prometheus.Collector](reg prometheus.Registerer, c C) (C, error) {
	if reg == nil {
		return c, nil
	}
	err := reg.Register(c)
	if err == nil {
		return c, nil
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// Into registers each *C in cs in turn with Register, replacing it with the
// collector to use; it stops at the first error.
func Into[C prometheus.Collector](reg prometheus.Registerer, cs ...*C) error {
	for _, c := range cs {
		got, err := Register(reg, *c)
		if err != nil {
			return err
		}
		*c = got
	}
	return nil
}
