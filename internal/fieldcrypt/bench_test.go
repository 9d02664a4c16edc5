package fieldcrypt

import "testing"

const benchPhone = "A1b2C3d4E5f6G7h8qh4nuZNlRTzxpqAOqs2A0w=="

func BenchmarkDeriveKeys(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		_ = DeriveKeys(specKey)
	}
}

// BenchmarkDecryptPhone compares a handler that caches *Keys with one that
// derives them per field.
func BenchmarkDecryptPhone(b *testing.B) {
	b.Run("cached keys", func(b *testing.B) {
		keys := DeriveKeys(specKey)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := keys.Decrypt(AES256, benchPhone); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("derive per call", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := DeriveKeys(specKey).Decrypt(AES256, benchPhone); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkEncryptPassword(b *testing.B) {
	keys := DeriveKeys(specKey)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := keys.Encrypt(nil, AES256, "Admin@KooGallery"); err != nil {
			b.Fatal(err)
		}
	}
}
