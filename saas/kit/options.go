package kit

import (
	"crypto"

	"github.com/isvkit/koogallery/callback"
	engine "github.com/isvkit/koogallery/internal/callback"
)

// WithPrivateKey sets the RSA private key NewHandler decrypts the
// clientSecret of applicationSync with: the key whose public half was
// uploaded at 应用凭证申请 (≥ 3072 bits). An *rsa.PrivateKey works (see
// ParsePrivateKey), as does a KMS or HSM key whose Decrypt accepts
// *rsa.OAEPOptions. Without it, ApplicationSyncRequest.ClientSecret stays
// empty and EncryptedClientSecret carries the ciphertext as received. It is
// the one option of this package; the others, shared by every handler, are
// package callback's.
func WithPrivateKey(k crypto.Decrypter) callback.KitOption {
	return engine.Wrap(engine.WithPrivateKey(k)).(callback.KitOption)
}
