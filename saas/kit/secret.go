package kit

import (
	"crypto"
	"crypto/rsa"
	"fmt"

	"github.com/isvkit/koogallery/internal/rsaoaep"
)

// ParsePrivateKey reads the RSA private key whose public half was
// uploaded at 应用凭证申请, for WithPrivateKey: PEM (PKCS#1 "RSA PRIVATE
// KEY" or PKCS#8 "PRIVATE KEY"), or the DER itself, raw or in Base64 (what
// Java's getEncoded() gives). Encrypted keys are refused. Errors never
// contain key material.
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	k, err := rsaoaep.ParsePrivateKey(data)
	if err != nil {
		return nil, fmt.Errorf("kit: parse private key: %w", err)
	}
	return k, nil
}

// DecryptClientSecret decrypts the clientSecret of an applicationSync call
// with the seller's private key, for sellers who keep the key away from the
// handler (ApplicationSyncRequest.EncryptedClientSecret). The OAEP parameters
// and the ciphertext's encoding are undocumented: it tries label hash
// SHA-256 with MGF1-SHA-1 (Java's OAEPWithSHA-256AndMGF1Padding), then
// SHA-256/SHA-256, then SHA-1/SHA-1, on Base64 (standard or URL, padded or
// not) or hex. Errors never contain the ciphertext, the secret or the key.
func DecryptClientSecret(key crypto.Decrypter, clientSecret string) (string, error) {
	pt, err := rsaoaep.Decrypt(key, clientSecret)
	if err != nil {
		return "", fmt.Errorf("kit: decrypt clientSecret: %w", err)
	}
	return string(pt), nil
}
