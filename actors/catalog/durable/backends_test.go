package durable_test

import (
	"testing"

	"github.com/arbor-db/arbor/persistence"
	"github.com/arbor-db/arbor/persistence/mem"
)

// backends lists the persistence backends the catalog is tested on.
func backends(t *testing.T) []backend {
	return []backend{
		{"mem", func(t *testing.T) persistence.Store { return mem.New() }},
	}
}
