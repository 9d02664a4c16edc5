package fieldcrypt

import (
	"crypto/cipher"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// EncryptType is the V1 encryptType value that names the AES key size.
type EncryptType string

const (
	// AES256 is encryptType "1", AES-256-CBC; KooGallery's default when the
	// response omits encryptType.
	AES256 EncryptType = "1"
	// AES128 is encryptType "2", AES-128-CBC.
	AES128 EncryptType = "2"
)

// ParseEncryptType maps an encryptType value to its EncryptType; the empty
// string is the default, AES256.
func ParseEncryptType(s string) (EncryptType, error) {
	switch EncryptType(s) {
	case "", AES256:
		return AES256, nil
	case AES128:
		return AES128, nil
	}
	return "", fmt.Errorf("fieldcrypt: parse encryptType %q: %w", s, ErrEncryptType)
}

func (t EncryptType) valid() bool { return t == AES128 || t == AES256 }

// other returns the other key size.
func (t EncryptType) other() EncryptType {
	if t == AES128 {
		return AES256
	}
	return AES128
}

// IVLen is the length of the IV text that prefixes every encrypted field.
const IVLen = 16

const (
	blockSize  = 16
	ivAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

var (
	// ErrEncryptType reports an encryptType other than "1" or "2".
	ErrEncryptType = errors.New("unknown encryptType")
	// ErrMalformed reports a field that is not IV text + Base64 of whole AES
	// blocks, whatever the key.
	ErrMalformed = errors.New("malformed encrypted field")
	// ErrDecrypt reports a well-formed field that does not decrypt under the
	// key: bad PKCS#5 padding or a plaintext that is not UTF-8. Usually the
	// wrong Key or the wrong encryptType.
	ErrDecrypt = errors.New("wrong key or corrupted ciphertext")
)

// EncryptedLen returns the length of the wire form of a plaintext of n
// bytes; KooGallery limits userName and password to 128 characters including
// the IV.
func EncryptedLen(n int) int {
	return IVLen + base64.StdEncoding.EncodedLen((n/blockSize+1)*blockSize)
}

// Encrypt encrypts plaintext under the key t names and returns the wire form
// IV text + Base64(ciphertext). The IV is drawn from random, or from
// crypto/rand when random is nil.
func (k *Keys) Encrypt(random io.Reader, t EncryptType, plaintext string) (string, error) {
	if !t.valid() {
		return "", fmt.Errorf("fieldcrypt: encrypt: encryptType %q: %w", string(t), ErrEncryptType)
	}
	if random == nil {
		random = rand.Reader
	}
	var iv [IVLen]byte
	if err := randomIV(random, &iv); err != nil {
		return "", fmt.Errorf("fieldcrypt: encrypt: draw iv: %w", err)
	}
	return k.encrypt(&iv, t, plaintext), nil
}

// encrypt is Encrypt with a given IV, for the spec's fixed-IV vectors.
func (k *Keys) encrypt(iv *[IVLen]byte, t EncryptType, plaintext string) string {
	padded := make([]byte, (len(plaintext)/blockSize+1)*blockSize)
	n := copy(padded, plaintext)
	pad := byte(len(padded) - n)
	for i := n; i < len(padded); i++ {
		padded[i] = pad
	}
	cipher.NewCBCEncrypter(k.block(t), iv[:]).CryptBlocks(padded, padded)

	out := make([]byte, IVLen+base64.StdEncoding.EncodedLen(len(padded)))
	copy(out, iv[:])
	base64.StdEncoding.Encode(out[IVLen:], padded)
	return string(out)
}

// randomIV fills iv with characters of ivAlphabet, rejection-sampling the
// random bytes so that every character is equally likely.
func randomIV(random io.Reader, iv *[IVLen]byte) error {
	const limit = 256 - 256%len(ivAlphabet) // 248: largest multiple of 62 ≤ 256
	var buf [2 * IVLen]byte
	for n := 0; n < IVLen; {
		if _, err := io.ReadFull(random, buf[:]); err != nil {
			return err
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			iv[n] = ivAlphabet[int(b)%len(ivAlphabet)]
			if n++; n == IVLen {
				break
			}
		}
	}
	return nil
}

// Decrypt decrypts the wire form of a field under the key t names.
//
// It accepts what KooGallery and Java's Base64 decoders produce: a ' ' in the
// Base64 part is read as '+' (the value crossed a query string un-encoded),
// CR and LF are ignored (MIME line wrapping), and the padding '=' may be
// missing. The IV may be any 16 printable ASCII characters, although KooGallery
// uses [A-Za-z0-9]. Errors wrap ErrEncryptType, ErrMalformed or ErrDecrypt and
// never contain the field, the plaintext or the key.
func (k *Keys) Decrypt(t EncryptType, field string) (string, error) {
	pt, _, err := k.decrypt(t, field, false)
	return pt, err
}

// DecryptFallback decrypts like Decrypt with the key t names and, if that key
// does not decrypt the field (ErrDecrypt), retries with the other key size;
// it returns the key size that worked. KooGallery encrypts mobilePhone and
// email with the size the seller chose when releasing the product, which the
// seller may not remember (inferred from Huawei's demos; KooGallery's pages do not say); the fallback makes a
// mismatch harmless. A wrong key passes the padding and UTF-8 checks with a
// probability below 1/256, so prefer Decrypt when the size is known.
func (k *Keys) DecryptFallback(t EncryptType, field string) (string, EncryptType, error) {
	return k.decrypt(t, field, true)
}

func (k *Keys) decrypt(t EncryptType, field string, fallback bool) (string, EncryptType, error) {
	if !t.valid() {
		return "", "", fmt.Errorf("fieldcrypt: decrypt: encryptType %q: %w", string(t), ErrEncryptType)
	}
	iv, ct, err := split(field)
	if err != nil {
		return "", "", fmt.Errorf("fieldcrypt: decrypt: %w", err)
	}
	pt, err := k.open(t, iv, ct)
	if err == nil {
		return pt, t, nil
	}
	if fallback {
		if pt, err := k.open(t.other(), iv, ct); err == nil {
			return pt, t.other(), nil
		}
	}
	return "", "", fmt.Errorf("fieldcrypt: decrypt: %w", err)
}

// split separates and validates the IV text and decodes the ciphertext.
func split(field string) (iv []byte, ct []byte, err error) {
	if len(field) < IVLen {
		return nil, nil, fmt.Errorf("%d bytes, shorter than the iv: %w", len(field), ErrMalformed)
	}
	for i := 0; i < IVLen; i++ {
		if c := field[i]; c <= ' ' || c > '~' {
			return nil, nil, fmt.Errorf("iv byte %d is not printable ascii: %w", i, ErrMalformed)
		}
	}
	b64 := field[IVLen:]
	if strings.ContainsAny(b64, " \r\n") {
		b64 = repairBase64(b64)
	}
	enc := base64.StdEncoding
	if len(b64)%4 != 0 {
		enc = base64.RawStdEncoding
	}
	ct = make([]byte, enc.DecodedLen(len(b64)))
	n, err := enc.Decode(ct, []byte(b64))
	if err != nil {
		return nil, nil, fmt.Errorf("ciphertext is not base64: %w", ErrMalformed)
	}
	ct = ct[:n]
	if len(ct) == 0 || len(ct)%blockSize != 0 {
		return nil, nil, fmt.Errorf("ciphertext of %d bytes is not whole aes blocks: %w", len(ct), ErrMalformed)
	}
	return []byte(field[:IVLen]), ct, nil
}

// repairBase64 reads ' ' as '+' and drops CR and LF.
func repairBase64(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ':
			b.WriteByte('+')
		case '\r', '\n':
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// open decrypts ct (whole blocks) with iv into a fresh buffer, leaving ct
// intact for a retry with the other key.
func (k *Keys) open(t EncryptType, iv, ct []byte) (string, error) {
	pt := make([]byte, len(ct))
	cipher.NewCBCDecrypter(k.block(t), iv).CryptBlocks(pt, ct)
	n, ok := unpad(pt)
	if !ok || !utf8.Valid(pt[:n]) {
		return "", ErrDecrypt
	}
	return string(pt[:n]), nil
}

// unpad checks PKCS#5 padding without branching on the padding bytes and
// returns the plaintext length.
func unpad(b []byte) (int, bool) {
	pad := b[len(b)-1]
	good := subtle.ConstantTimeLessOrEq(1, int(pad)) & subtle.ConstantTimeLessOrEq(int(pad), blockSize)
	for i := 1; i <= blockSize; i++ {
		// Bytes inside the padding must equal pad.
		inPad := subtle.ConstantTimeLessOrEq(i, int(pad))
		eq := subtle.ConstantTimeByteEq(b[len(b)-i], pad)
		good &= eq | (inPad ^ 1)
	}
	if good != 1 {
		return 0, false
	}
	return len(b) - int(pad), true
}
