package saas

import (
	"log/slog"

	engine "github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/internal/idempotency"
	"github.com/isvkit/koogallery/store"
)

// settings applies opts for ctor over base and fills in the defaults the
// SaaS handlers share.
func settings(ctor string, base engine.Config, opts []engine.Option) (*engine.Settings, *slog.Logger) {
	s := engine.Apply(ctor, base, opts)
	if s.Keep <= 0 {
		s.Keep = DefaultKeep
	}
	log := s.Logger
	if log == nil {
		log = slog.Default()
	}
	return s, log
}

// once returns the at-most-once group over the configured Store, or a new
// in-memory one of DefaultMemoryStoreSize records on the handler's clock.
func once(s *engine.Settings, log *slog.Logger) idempotency.Group[Record] {
	st := s.Store
	if st == nil {
		st = store.NewMemory(DefaultMemoryStoreSize, store.WithClock(s.Now))
	}
	return idempotency.Group[Record]{
		Store:  st,
		Lease:  s.ClaimLease(),
		Keep:   s.Keep,
		Wait:   idempotency.Wait,
		Final:  func(r *Record) bool { return !r.Pending },
		Logger: log,
	}
}
