package saas

import (
	"crypto"
	"time"
)

// v1Config holds the settings only the V1 and kit handlers use.
type v1Config struct {
	encryptType EncryptType
	kitKey      crypto.Decrypter
}

// WithEncryptType sets the AES key size of the SaaS V1 field encryption for
// NewV1Handler (AES256 by default, KooGallery's default): the encryptType of
// its answers, under which it encrypts AppInfo.UserName and Password, and the
// size it first tries for an incoming mobilePhone or email, falling back to
// the other size (KooGallery uses the size chosen when the product was
// released, which is easy to misremember). NewV1Handler panics for a value
// other than AES256 or AES128. Other handlers ignore it.
func WithEncryptType(t EncryptType) Option {
	return func(c *config) { c.v1.encryptType = t }
}

// WithV1Window sets how far the timeStamp of a V1 call (NewV1Handler, and
// the V1 paths of NewKitHandler) may lie from the server's clock, in either
// direction, before the call is refused with 000001; the WithClockSkew
// allowance comes on top. The default is 24 hours; zero or negative turns the
// check off.
//
// KooGallery documents no window for V1 [GAP], and re-sends failed calls for
// up to three hours: a tight window would refuse its retries should they
// carry the original timeStamp. Without a window, a V1 URL from an access
// log could be replayed forever. Keep the default unless the logs show
// genuine calls refused as "outside the V1 freshness window".
func WithV1Window(d time.Duration) Option {
	return func(c *config) { c.SetV1Window(d) }
}

// WithKitPrivateKey sets the RSA private key NewKitHandler decrypts the
// clientSecret of applicationSync with: the key whose public half was
// uploaded at 应用凭证申请 (≥ 3072 bits). An *rsa.PrivateKey works (see
// ParseKitPrivateKey), as does a KMS or HSM key whose Decrypt accepts
// *rsa.OAEPOptions. Without it, ApplicationSyncRequest.ClientSecret stays
// empty and EncryptedClientSecret carries the ciphertext as received.
func WithKitPrivateKey(k crypto.Decrypter) Option {
	return func(c *config) { c.v1.kitKey = k }
}
