package rsaoaep

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"testing"
)

// BenchmarkDecrypt shows the cost of trying parameter sets in order: the
// Java default matches first, SHA-1/SHA-1 third.
func BenchmarkDecrypt(b *testing.B) {
	priv := sellerKey()

	for _, bc := range []struct {
		name string
		ct   []byte
	}{
		{"java default (first set)", encryptOAEP(b, &priv.PublicKey, sha256.New, sha1.New, []byte("client-secret"))},
		{"sha1 (third set)", encryptOAEP(b, &priv.PublicKey, sha1.New, sha1.New, []byte("client-secret"))},
	} {
		s := base64.StdEncoding.EncodeToString(bc.ct)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decrypt(priv, s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
