package fieldcrypt

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const specIV = "A1b2C3d4E5f6G7h8"

// fieldVectors are spec §9.2 (IV fixed for the test).
var fieldVectors = []struct {
	name      string
	t         EncryptType
	plaintext string
	wire      string
}{
	{"aes128 password", AES128, "Admin@KooGallery", "A1b2C3d4E5f6G7h8neKPe+RLly/zhmyBti9dt8nRsRPJCHoB2jpmE9T7DlI="},
	{"aes256 password", AES256, "Admin@KooGallery", "A1b2C3d4E5f6G7h8VH9Md9sa/hHKhzMJvfUGzrs1GTtgmIuvs1xxk5luqPg="},
	{"aes256 phone", AES256, "13800138000", "A1b2C3d4E5f6G7h8qh4nuZNlRTzxpqAOqs2A0w=="},
}

var specKeys = DeriveKeys(specKey)

func TestSpecVectors(t *testing.T) {
	t.Parallel()
	for _, v := range fieldVectors {
		t.Run(v.name, func(t *testing.T) {
			t.Parallel()
			got, err := specKeys.Decrypt(v.t, v.wire)
			require.NoError(t, err)
			assert.Equal(t, v.plaintext, got, "decrypt")

			var iv [IVLen]byte
			copy(iv[:], specIV)
			assert.Equal(t, v.wire, specKeys.encrypt(&iv, v.t, v.plaintext), "re-encrypt with the spec IV")

			_, err = specKeys.Decrypt(v.t.other(), v.wire)
			assert.ErrorIs(t, err, ErrDecrypt, "the other key size must not decrypt the vector")

			pt, used, err := specKeys.DecryptFallback(v.t.other(), v.wire)
			require.NoError(t, err, "fallback")
			assert.Equal(t, v.plaintext, pt)
			assert.Equal(t, v.t, used)
		})
	}
}

func TestParseEncryptType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    EncryptType
		wantErr bool
	}{
		{"", AES256, false},
		{"1", AES256, false},
		{"2", AES128, false},
		{"3", "", true},
		{" 1", "", true},
		{"AES256", "", true},
	}
	for _, tc := range tests {
		got, err := ParseEncryptType(tc.in)
		if tc.wantErr {
			assert.ErrorIs(t, err, ErrEncryptType, "%q", tc.in)
			continue
		}
		assert.NoError(t, err, "%q", tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
	}
}

func TestUnknownEncryptTypeRefused(t *testing.T) {
	t.Parallel()
	_, err := specKeys.Encrypt(nil, "", "x")
	assert.ErrorIs(t, err, ErrEncryptType)
	_, err = specKeys.Decrypt("3", fieldVectors[0].wire)
	assert.ErrorIs(t, err, ErrEncryptType)
	_, _, err = specKeys.DecryptFallback("0", fieldVectors[0].wire)
	assert.ErrorIs(t, err, ErrEncryptType)
}

// randomString returns up to max runes mixing ASCII, 2-, 3- and 4-byte UTF-8.
func randomString(t *testing.T, max int) string {
	t.Helper()
	pools := []string{"abcXYZ019+/= @._-", "éüßñ", "中文云商店", "😀🎉𝄞"}
	n := randInt(t, max+1)
	var b strings.Builder
	for range n {
		pool := []rune(pools[randInt(t, len(pools))])
		b.WriteRune(pool[randInt(t, len(pool))])
	}
	return b.String()
}

func randInt(t *testing.T, n int) int {
	t.Helper()
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	require.NoError(t, err)
	return int(v.Int64())
}

func TestRoundTripRandom(t *testing.T) {
	t.Parallel()
	for i := range 200 {
		key := randomString(t, 64)
		plaintext := randomString(t, 80)
		keys := DeriveKeys(key)
		for _, et := range []EncryptType{AES128, AES256} {
			wire, err := keys.Encrypt(nil, et, plaintext)
			require.NoError(t, err)
			assert.Len(t, wire, EncryptedLen(len(plaintext)), "case %d", i)
			got, err := keys.Decrypt(et, wire)
			require.NoError(t, err, "case %d", i)
			assert.Equal(t, plaintext, got, "case %d", i)
		}
	}
}

func TestRoundTripBoundaries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		plaintext string
		blocks    int
	}{
		{"empty", "", 1},
		{"one byte", "x", 1},
		{"block minus one", strings.Repeat("a", 15), 1},
		{"exact block adds a padding block", strings.Repeat("a", 16), 2},
		{"multi block", strings.Repeat("0123456789", 10), 7},
		{"utf8 across block edges", strings.Repeat("云商店😀", 9), 8},
		{"max userName", strings.Repeat("u", 79), 5}, // 16 + 108 = 124 ≤ 128
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			for _, et := range []EncryptType{AES128, AES256} {
				wire, err := specKeys.Encrypt(nil, et, tc.plaintext)
				require.NoError(t, err)
				ct, err := base64.StdEncoding.DecodeString(wire[IVLen:])
				require.NoError(t, err)
				assert.Len(t, ct, tc.blocks*16)
				got, err := specKeys.Decrypt(et, wire)
				require.NoError(t, err)
				assert.Equal(t, tc.plaintext, got)
			}
		})
	}
	assert.LessOrEqual(t, EncryptedLen(79), 128)
	assert.Greater(t, EncryptedLen(80), 128)
}

func TestEncryptIV(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 100 {
		wire, err := specKeys.Encrypt(nil, AES256, "13800138000")
		require.NoError(t, err)
		iv := wire[:IVLen]
		for _, c := range iv {
			assert.Contains(t, ivAlphabet, string(c))
		}
		assert.False(t, seen[iv], "IV repeated: %s", iv)
		seen[iv] = true
	}
}

func TestEncryptIVRejectionSampling(t *testing.T) {
	t.Parallel()
	// Bytes 248..255 would bias the alphabet and must be skipped; byte 62
	// wraps to 'A', 61 and 247 (the largest kept) are '9'.
	src := append(bytes.Repeat([]byte{255, 248}, 8), 0, 61, 62, 247)
	src = append(src, make([]byte, 64)...)
	wire, err := specKeys.Encrypt(bytes.NewReader(src), AES128, "x")
	require.NoError(t, err)
	assert.Equal(t, "A9A9"+strings.Repeat("A", 12), wire[:IVLen])
}

func TestEncryptRandomFailure(t *testing.T) {
	t.Parallel()
	boom := errors.New("entropy exhausted")
	_, err := specKeys.Encrypt(&failingReader{err: boom}, AES256, "secret-plaintext")
	require.ErrorIs(t, err, boom)
	assert.NotContains(t, err.Error(), "secret-plaintext")

	// A source that only ever yields rejected bytes ends with io.EOF, not a hang.
	_, err = specKeys.Encrypt(bytes.NewReader(bytes.Repeat([]byte{250}, 1000)), AES256, "x")
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
}

type failingReader struct{ err error }

func (r *failingReader) Read([]byte) (int, error) { return 0, r.err }

func TestDecryptTolerance(t *testing.T) {
	t.Parallel()
	wire := fieldVectors[0].wire // contains '+' and '/' and one '='
	tests := []struct {
		name string
		in   string
	}{
		{"as sent", wire},
		{"plus became space in a query string", strings.ReplaceAll(wire, "+", " ")},
		{"padding stripped", strings.TrimRight(wire, "=")},
		{"mime line breaks", wire[:30] + "\r\n" + wire[30:] + "\n"},
	}
	for _, tc := range tests {
		got, err := specKeys.Decrypt(AES128, tc.in)
		require.NoError(t, err, tc.name)
		assert.Equal(t, "Admin@KooGallery", got, tc.name)
	}

	// An IV of printable punctuation is accepted and used as is.
	var iv [IVLen]byte
	copy(iv[:], "!#$%&()*+,-./:;<")
	out := specKeys.encrypt(&iv, AES256, "pt")
	got, err := specKeys.Decrypt(AES256, out)
	require.NoError(t, err)
	assert.Equal(t, "pt", got)
}

func TestDecryptRefusesMalformed(t *testing.T) {
	t.Parallel()
	good := fieldVectors[2].wire
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrMalformed},
		{"short iv", "A1b2C3", ErrMalformed},
		{"iv only", specIV, ErrMalformed},
		{"iv with space", "A1b2C3d4 5f6G7h8" + good[IVLen:], ErrMalformed},
		{"iv with control byte", "A1b2C3d4\x005f6G7h8" + good[IVLen:], ErrMalformed},
		{"iv with utf8", "A1b2C3d4é6G7h8" + good[IVLen:], ErrMalformed},
		{"not base64", specIV + "!!!!????", ErrMalformed},
		{"partial block", specIV + base64.StdEncoding.EncodeToString(make([]byte, 15)), ErrMalformed},
		{"block and a half", specIV + base64.StdEncoding.EncodeToString(make([]byte, 24)), ErrMalformed},
		{"base64 of nothing", specIV + "====", ErrMalformed},
		{"truncated block", good[:len(good)-4], ErrMalformed},
		{"flipped last byte breaks padding", flipLastCipherByte(good), ErrDecrypt},
		{"zero block", specIV + base64.StdEncoding.EncodeToString(make([]byte, 16)), ErrDecrypt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := specKeys.Decrypt(AES256, tc.in)
			assert.ErrorIs(t, err, tc.want)
			assert.Empty(t, got)
			_, _, err = specKeys.DecryptFallback(AES256, tc.in)
			assert.ErrorIs(t, err, tc.want, "fallback")
		})
	}
}

func flipLastCipherByte(wire string) string {
	ct, err := base64.StdEncoding.DecodeString(wire[IVLen:])
	if err != nil {
		panic(err)
	}
	ct[len(ct)-1] ^= 0x5a
	return wire[:IVLen] + base64.StdEncoding.EncodeToString(ct)
}

func TestUnpad(t *testing.T) {
	t.Parallel()
	block := func(tail ...byte) []byte {
		b := bytes.Repeat([]byte{'x'}, 16)
		copy(b[16-len(tail):], tail)
		return b
	}
	tests := []struct {
		name   string
		in     []byte
		want   int
		wantOK bool
	}{
		{"one", block(1), 15, true},
		{"two", block(2, 2), 14, true},
		{"full block", bytes.Repeat([]byte{16}, 16), 0, true},
		{"two blocks full padding", append(block(), bytes.Repeat([]byte{16}, 16)...), 16, true},
		{"zero", block(0), 0, false},
		{"seventeen", bytes.Repeat([]byte{17}, 32), 0, false},
		{"inconsistent", block(3, 2, 3), 0, false},
		{"inconsistent at far end", append([]byte{15}, bytes.Repeat([]byte{16}, 15)...), 0, false},
		{"pad byte 255", block(255), 0, false},
	}
	for _, tc := range tests {
		n, ok := unpad(tc.in)
		assert.Equal(t, tc.wantOK, ok, tc.name)
		if tc.wantOK {
			assert.Equal(t, tc.want, n, tc.name)
		}
	}
}

func TestDecryptWrongKey(t *testing.T) {
	t.Parallel()
	other := DeriveKeys("another-seller-key")
	for _, v := range fieldVectors {
		_, err := other.Decrypt(v.t, v.wire)
		assert.ErrorIs(t, err, ErrDecrypt, v.name)
		_, _, err = other.DecryptFallback(v.t, v.wire)
		assert.ErrorIs(t, err, ErrDecrypt, v.name)
	}
}

// TestErrorsLeakNothing checks that no error names the key, the plaintext or
// the field.
func TestErrorsLeakNothing(t *testing.T) {
	t.Parallel()
	const key = "S3cr3t-Seller-Key-Value"
	keys := DeriveKeys(key)
	wire, err := keys.Encrypt(nil, AES256, "plain-phone-13800138000")
	require.NoError(t, err)
	inputs := []string{wire, flipLastCipherByte(wire), wire[:20], wire[:IVLen] + "%%%%", key}
	for _, in := range inputs {
		for _, et := range []EncryptType{AES128, "9"} {
			_, err := keys.Decrypt(et, in)
			require.Error(t, err)
			for _, secret := range []string{key, "plain-phone", wire[IVLen:], wire[:IVLen]} {
				assert.NotContains(t, err.Error(), secret)
			}
		}
	}
}

func FuzzDecrypt(f *testing.F) {
	keys := DeriveKeys(specKey)
	f.Fuzz(func(t *testing.T, field string, use128 bool) {
		et := AES256
		if use128 {
			et = AES128
		}
		pt, err := keys.Decrypt(et, field)
		if err != nil {
			if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrDecrypt) {
				t.Fatalf("unexpected error class: %v", err)
			}
			return
		}
		if !utf8.ValidString(pt) {
			t.Fatalf("invalid UTF-8 plaintext accepted")
		}
		// Whatever decrypts re-encrypts, under the same IV, to a field that
		// decrypts to the same plaintext.
		var iv [IVLen]byte
		copy(iv[:], field)
		again, err := keys.Decrypt(et, keys.encrypt(&iv, et, pt))
		if err != nil || again != pt {
			t.Fatalf("re-encryption round trip failed: %v", err)
		}
		if _, _, err := keys.DecryptFallback(et, field); err != nil {
			t.Fatalf("fallback refused what Decrypt accepted: %v", err)
		}
	})
}
