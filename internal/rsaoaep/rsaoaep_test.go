package rsaoaep

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"hash"
	"io"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sellerKey is generated once per test binary: 3072-bit generation is slow.
var sellerKey = sync.OnceValue(func() *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, 3072)
	if err != nil {
		panic(err)
	}
	return k
})

// encryptOAEP is an independent EME-OAEP encoder (RFC 8017 §7.1.1) with
// separate label and MGF1 hashes, which rsa.EncryptOAEP cannot do before
// Go 1.26, followed by the textbook public-key operation.
func encryptOAEP(t testing.TB, pub *rsa.PublicKey, labelHash, mgfHash func() hash.Hash, msg []byte) []byte {
	t.Helper()
	k := pub.Size()
	lh := labelHash()
	hLen := lh.Size()
	require.LessOrEqual(t, len(msg), k-2*hLen-2, "message too long for OAEP")
	lHash := lh.Sum(nil)

	db := make([]byte, k-hLen-1)
	copy(db, lHash)
	db[len(db)-len(msg)-1] = 0x01
	copy(db[len(db)-len(msg):], msg)
	seed := make([]byte, hLen)
	_, err := io.ReadFull(rand.Reader, seed)
	require.NoError(t, err)

	xorMGF1(mgfHash, db, seed)
	xorMGF1(mgfHash, seed, db)
	em := append(append([]byte{0}, seed...), db...)

	m := new(big.Int).SetBytes(em)
	c := new(big.Int).Exp(m, big.NewInt(int64(pub.E)), pub.N)
	return c.FillBytes(make([]byte, k))
}

// xorMGF1 xors MGF1(seed) into out.
func xorMGF1(newHash func() hash.Hash, out, seed []byte) {
	var counter [4]byte
	for done := 0; done < len(out); {
		h := newHash()
		h.Write(seed)
		h.Write(counter[:])
		for _, b := range h.Sum(nil) {
			if done == len(out) {
				break
			}
			out[done] ^= b
			done++
		}
		for i := 3; i >= 0; i-- {
			if counter[i]++; counter[i] != 0 {
				break
			}
		}
	}
}

func TestEncoderAgreesWithStdlib(t *testing.T) {
	t.Parallel()
	priv := sellerKey()
	ct := encryptOAEP(t, &priv.PublicKey, sha256.New, sha256.New, []byte("x"))
	pt, err := rsa.DecryptOAEP(sha256.New(), nil, priv, ct, nil)
	require.NoError(t, err, "the test encoder must be right for Decrypt's tests to mean anything")
	assert.Equal(t, []byte("x"), pt)
}

func TestDecryptParameterSetsAndEncodings(t *testing.T) {
	t.Parallel()
	priv := sellerKey()
	secret := []byte("9f8e7d6c5b4a39281706f5e4d3c2b1a0-client-secret")
	params := []struct {
		name           string
		label, mgf     func() hash.Hash
		stdlibSameHash bool
	}{
		{name: "Java OAEPWithSHA-256AndMGF1Padding (SHA-256, MGF1-SHA-1)", label: sha256.New, mgf: sha1.New},
		{name: "SHA-256, MGF1-SHA-256", label: sha256.New, mgf: sha256.New, stdlibSameHash: true},
		{name: "SHA-1, MGF1-SHA-1", label: sha1.New, mgf: sha1.New, stdlibSameHash: true},
	}
	encodings := []struct {
		name   string
		encode func([]byte) string
	}{
		{"base64 std", base64.StdEncoding.EncodeToString},
		{"base64 raw std", base64.RawStdEncoding.EncodeToString},
		{"base64 url", base64.URLEncoding.EncodeToString},
		{"base64 raw url", base64.RawURLEncoding.EncodeToString},
		{"hex", hex.EncodeToString},
		{"HEX", func(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }},
		{"mime-wrapped base64", func(b []byte) string { return wrap(base64.StdEncoding.EncodeToString(b), 76) }},
	}
	for _, p := range params {
		ct := encryptOAEP(t, &priv.PublicKey, p.label, p.mgf, secret)
		for _, e := range encodings {
			t.Run(p.name+"/"+e.name, func(t *testing.T) {
				t.Parallel()
				got, err := Decrypt(priv, e.encode(ct))
				require.NoError(t, err)
				assert.Equal(t, secret, got)
			})
		}
		if p.stdlibSameHash {
			ct, err := rsa.EncryptOAEP(p.label(), rand.Reader, &priv.PublicKey, secret, nil)
			require.NoError(t, err)
			got, err := Decrypt(priv, base64.StdEncoding.EncodeToString(ct))
			require.NoError(t, err, "stdlib ciphertext, %s", p.name)
			assert.Equal(t, secret, got)
		}
	}
}

func wrap(s string, n int) string {
	var b strings.Builder
	for len(s) > n {
		b.WriteString(s[:n] + "\r\n")
		s = s[n:]
	}
	b.WriteString(s)
	return b.String()
}

func TestDecryptPlaintextSizes(t *testing.T) {
	t.Parallel()
	priv := sellerKey()
	max := priv.Size() - 2*sha256.Size - 2
	for _, n := range []int{0, 1, 32, max} {
		msg := make([]byte, n)
		_, err := rand.Read(msg)
		require.NoError(t, err)
		ct := encryptOAEP(t, &priv.PublicKey, sha256.New, sha1.New, msg)
		got, err := Decrypt(priv, base64.StdEncoding.EncodeToString(ct))
		require.NoError(t, err, "n=%d", n)
		assert.Equal(t, msg, got, "n=%d", n)
	}
}

func TestDecryptRefuses(t *testing.T) {
	t.Parallel()
	priv := sellerKey()
	secret := []byte("plain-client-secret-value")
	java := encryptOAEP(t, &priv.PublicKey, sha256.New, sha1.New, secret)
	unsupported := encryptOAEP(t, &priv.PublicKey, sha512.New, sha512.New, secret)
	flipped := append([]byte(nil), java...)
	flipped[len(flipped)/2] ^= 1
	random := make([]byte, priv.Size())
	_, err := rand.Read(random)
	require.NoError(t, err)
	random[0] = 0 // stay below the modulus

	tests := []struct {
		name string
		in   string
		want error
	}{
		{"empty", "", ErrEncoding},
		{"not an encoding", "%%%%", ErrEncoding},
		{"one byte short", base64.StdEncoding.EncodeToString(java[1:]), ErrEncoding},
		{"one byte long", base64.StdEncoding.EncodeToString(append([]byte{0}, java...)), ErrEncoding},
		{"hex of the wrong size", hex.EncodeToString(java[:100]), ErrEncoding},
		{"unsupported parameter set (SHA-512)", base64.StdEncoding.EncodeToString(unsupported), ErrDecrypt},
		{"flipped bit", base64.StdEncoding.EncodeToString(flipped), ErrDecrypt},
		{"random block", base64.StdEncoding.EncodeToString(random), ErrDecrypt},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := Decrypt(priv, tc.in)
			require.ErrorIs(t, err, tc.want)
			assert.Nil(t, got)
			assert.NotContains(t, err.Error(), string(secret))
			if len(tc.in) > 8 {
				assert.NotContains(t, err.Error(), tc.in[:8])
			}
		})
	}
}

func TestDecryptWrongKey(t *testing.T) {
	t.Parallel()
	priv := sellerKey()
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	ct := base64.StdEncoding.EncodeToString(encryptOAEP(t, &priv.PublicKey, sha256.New, sha1.New, []byte("s")))
	_, err = Decrypt(other, ct)
	assert.ErrorIs(t, err, ErrEncoding, "a 2048-bit key cannot read a 3072-bit block")

	ct2048 := base64.StdEncoding.EncodeToString(encryptOAEP(t, &other.PublicKey, sha256.New, sha1.New, []byte("s")))
	_, err = Decrypt(priv, ct2048)
	assert.ErrorIs(t, err, ErrEncoding)
}

// decrypterOnly hides *rsa.PrivateKey behind the crypto.Decrypter interface,
// as a KMS-backed key would.
type decrypterOnly struct{ k *rsa.PrivateKey }

func (d decrypterOnly) Public() crypto.PublicKey { return d.k.Public() }
func (d decrypterOnly) Decrypt(r io.Reader, ct []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	return d.k.Decrypt(r, ct, opts)
}

type ecDecrypter struct{ k *ecdsa.PrivateKey }

func (d ecDecrypter) Public() crypto.PublicKey { return d.k.Public() }
func (d ecDecrypter) Decrypt(io.Reader, []byte, crypto.DecrypterOpts) ([]byte, error) {
	panic("must not be called")
}

func TestDecryptWithDecrypterInterface(t *testing.T) {
	t.Parallel()
	priv := sellerKey()
	ct := encryptOAEP(t, &priv.PublicKey, sha256.New, sha1.New, []byte("kms"))
	got, err := Decrypt(decrypterOnly{priv}, hex.EncodeToString(ct))
	require.NoError(t, err)
	assert.Equal(t, []byte("kms"), got)

	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	_, err = Decrypt(ecDecrypter{ec}, hex.EncodeToString(ct))
	assert.ErrorIs(t, err, ErrKey)
}

func TestParsePrivateKey(t *testing.T) {
	t.Parallel()
	priv := sellerKey()
	pkcs1 := x509.MarshalPKCS1PrivateKey(priv)
	pkcs8, err := x509.MarshalPKCS8PrivateKey(priv)
	require.NoError(t, err)
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	tests := []struct {
		name string
		in   []byte
	}{
		{"PKCS#1 PEM", pemOf("RSA PRIVATE KEY", pkcs1)},
		{"PKCS#8 PEM", pemOf("PRIVATE KEY", pkcs8)},
		{"PKCS#8 PEM after a certificate block", append(pemOf("CERTIFICATE", []byte("not parsed")), pemOf("PRIVATE KEY", pkcs8)...)},
		{"PKCS#8 PEM with CRLF", []byte(strings.ReplaceAll(string(pemOf("PRIVATE KEY", pkcs8)), "\n", "\r\n"))},
		{"PKCS#1 DER", pkcs1},
		{"PKCS#8 DER", pkcs8},
		{"PKCS#8 Base64 (Java getEncoded)", []byte(base64.StdEncoding.EncodeToString(pkcs8))},
		{"PKCS#8 Base64 wrapped", []byte(wrap(base64.StdEncoding.EncodeToString(pkcs8), 64) + "\n")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePrivateKey(tc.in)
			require.NoError(t, err)
			assert.True(t, priv.Equal(got))
		})
	}
}

func TestParsePrivateKeyRefuses(t *testing.T) {
	t.Parallel()
	priv := sellerKey()
	pkcs8 := must(x509.MarshalPKCS8PrivateKey(priv))
	ec := must(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	ecDER := must(x509.MarshalPKCS8PrivateKey(ec))
	encrypted := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00"}, Bytes: pkcs8})
	truncated := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8[:len(pkcs8)/2]})
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"garbage", []byte("not a key")},
		{"encrypted PEM", encrypted},
		{"encrypted PKCS#8", pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}})},
		{"public key only", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: must(x509.MarshalPKIXPublicKey(&priv.PublicKey))})},
		{"EC key", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})},
		{"truncated", truncated},
	}
	secretFragment := base64.StdEncoding.EncodeToString(pkcs8)[40:60]
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParsePrivateKey(tc.in)
			require.ErrorIs(t, err, ErrKey)
			assert.Nil(t, got)
			assert.NotContains(t, err.Error(), secretFragment)
		})
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
