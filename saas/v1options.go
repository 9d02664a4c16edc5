package saas

import (
	"github.com/isvkit/koogallery/callback"
	engine "github.com/isvkit/koogallery/internal/callback"
)

// WithEncryptType sets the AES key size of the SaaS V1 field encryption for
// NewV1Handler (AES256 by default, KooGallery's default): the encryptType of
// its answers, under which it encrypts AppInfo.UserName and Password, and the
// size it first tries for an incoming mobilePhone or email, falling back to
// the other size (KooGallery uses the size chosen when the product was
// released, which is easy to misremember). "" means the default; any other
// value but AES256 or AES128 makes NewV1Handler panic. It is the one option
// of this package; the others, shared by every handler, are package
// callback's.
func WithEncryptType(t EncryptType) callback.SaaSV1Option {
	return engine.Wrap(engine.WithEncryptType(string(t))).(callback.SaaSV1Option)
}
