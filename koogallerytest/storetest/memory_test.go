package storetest_test

import (
	"testing"

	"github.com/isvkit/koogallery/koogallerytest/storetest"
	"github.com/isvkit/koogallery/store"
)

// The conformance suites against the stores every handler uses by default.
func TestMemoryConformance(t *testing.T) {
	t.Parallel()
	storetest.RunStore(t, func(t *testing.T) store.Store { return store.NewMemory(0) })
}

func TestMemoryReplayCacheConformance(t *testing.T) {
	t.Parallel()
	storetest.RunReplayCache(t, func(t *testing.T) store.ReplayCache { return store.NewMemoryReplayCache(0) })
}
