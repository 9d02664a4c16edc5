package kit

import (
	"context"

	"github.com/isvkit/koogallery/callback"
	engine "github.com/isvkit/koogallery/internal/callback"
)

// WithObserver sets fn to be told the outcome of every call, once its
// answer is written (see callback.Outcome): count calls per activity and
// result code, refusals per reason, and time them, in Prometheus,
// OpenTelemetry or a log, without the SDK importing either. fn runs on the
// request's goroutine; keep it fast. nil means none.
func WithObserver(fn func(context.Context, callback.Outcome)) Option { return engine.WithObserver(fn) }
