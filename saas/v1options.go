package saas

import (
	"time"

	"github.com/isvkit/koogallery/internal/callback"
)

// WithEncryptType sets the AES key size of the SaaS V1 field encryption for
// NewV1Handler (AES256 by default, KooGallery's default): the encryptType of
// its answers, under which it encrypts AppInfo.UserName and Password, and the
// size it first tries for an incoming mobilePhone or email, falling back to
// the other size (KooGallery uses the size chosen when the product was
// released, which is easy to misremember). "" means the default; any other
// value but AES256 or AES128 makes NewV1Handler panic.
func WithEncryptType(t EncryptType) Option { return callback.WithEncryptType(string(t)) }

// WithV1Window sets how far the timeStamp of a V1 call (NewV1Handler, and
// the V1 paths of kit.NewHandler) may lie from the server's clock, in either
// direction, before the call is refused with 000001; the WithClockSkew
// allowance comes on top. The default is 24 hours; zero or negative turns the
// check off.
//
// KooGallery documents no window for V1, and re-sends failed calls for up
// to three hours: a tight window would refuse its retries should they carry
// the original timeStamp. Without a window, a V1 URL from an access log
// could be replayed forever. Keep the default unless the logs show genuine
// calls refused as "outside the V1 freshness window".
func WithV1Window(d time.Duration) Option { return callback.WithV1Window(d) }
