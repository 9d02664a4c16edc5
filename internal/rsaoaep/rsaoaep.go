// Package rsaoaep decrypts the clientSecret of a joint-operation kit
// applicationSync call (KooGallery's kit applicationSync pages,
// zh-cn_topic_0070649110 and zh-cn_topic_0070649434): RSA-OAEP under the public
// key the seller uploaded (≥ 3072 bits), decrypted with the seller's private
// key.
//
// KooGallery's pages leave the OAEP hashes and the ciphertext encoding open, so
// Decrypt tries, in order, the parameter sets Java makes likely:
//
//  1. label hash SHA-256, MGF1 with SHA-1: Java's
//     "RSA/ECB/OAEPWithSHA-256AndMGF1Padding" without explicit parameters;
//  2. SHA-256 and MGF1 with SHA-256;
//  3. SHA-1 and MGF1 with SHA-1 ("OAEPWithSHA-1AndMGF1Padding", "OAEPPadding"),
//
// on the ciphertext read as standard Base64, unpadded standard Base64,
// URL-safe Base64 (padded or not) or hex; only a reading that yields exactly
// the modulus size is tried. A wrong parameter set fails the OAEP integrity
// check, so a success is not a guess.
package rsaoaep

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
)

var (
	// ErrKey reports a private key that cannot be read or is not RSA.
	ErrKey = errors.New("unusable RSA private key")
	// ErrEncoding reports a ciphertext that no supported encoding turns into
	// a modulus-sized block.
	ErrEncoding = errors.New("ciphertext is not base64 or hex of one RSA block")
	// ErrDecrypt reports a ciphertext that no parameter set decrypts: the
	// wrong key, or a parameter set KooGallery does not use.
	ErrDecrypt = errors.New("no OAEP parameter set decrypts the ciphertext")
)

// oaepParams are the parameter sets Decrypt tries, most likely first.
var oaepParams = []rsa.OAEPOptions{
	{Hash: crypto.SHA256, MGFHash: crypto.SHA1},
	{Hash: crypto.SHA256, MGFHash: crypto.SHA256},
	{Hash: crypto.SHA1, MGFHash: crypto.SHA1},
}

// ParsePrivateKey reads an RSA private key: PEM ("RSA PRIVATE KEY" PKCS#1 or
// "PRIVATE KEY" PKCS#8; other blocks such as certificates are skipped), or
// the DER itself, raw or Base64-encoded (what Java's getEncoded() gives).
// Encrypted keys are refused. Errors never contain key material.
func ParsePrivateKey(data []byte) (*rsa.PrivateKey, error) {
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch block.Type {
		case "RSA PRIVATE KEY", "PRIVATE KEY":
			if _, encrypted := block.Headers["Proc-Type"]; encrypted {
				return nil, fmt.Errorf("rsaoaep: parse private key: %w: encrypted PEM", ErrKey)
			}
			return parseDER(block.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("rsaoaep: parse private key: %w: encrypted PKCS#8", ErrKey)
		}
	}
	if strings.Contains(string(data), "-----BEGIN") {
		return nil, fmt.Errorf("rsaoaep: parse private key: %w: no private key PEM block", ErrKey)
	}
	der := data
	if b64, err := base64.StdEncoding.DecodeString(stripSpace(string(data))); err == nil {
		der = b64
	}
	return parseDER(der)
}

func parseDER(der []byte) (*rsa.PrivateKey, error) {
	if k, err := x509.ParsePKCS1PrivateKey(der); err == nil {
		return k, nil
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		// The x509 errors describe ASN.1 structure, never key bytes, but the
		// PKCS#1 one is misleading after a PKCS#8 attempt: keep ours.
		return nil, fmt.Errorf("rsaoaep: parse private key: %w: neither PKCS#1 nor PKCS#8 DER", ErrKey)
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("rsaoaep: parse private key: %w: PKCS#8 key is %T, not RSA", ErrKey, k)
	}
	return rk, nil
}

// Decrypt decrypts a clientSecret with the seller's private key: an
// *rsa.PrivateKey, or any crypto.Decrypter with an RSA public key (a KMS or
// HSM key) that accepts *rsa.OAEPOptions. See the package documentation for
// what it tries. Each failed parameter set costs one private-key operation
// (about 4 ms at 3072 bits); applicationSync is rare, so this is acceptable.
//
// Errors wrap ErrKey, ErrEncoding or ErrDecrypt and never contain the
// ciphertext, the plaintext or the key.
func Decrypt(key crypto.Decrypter, clientSecret string) ([]byte, error) {
	pub, ok := key.Public().(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("rsaoaep: decrypt: %w: public key is %T, not RSA", ErrKey, key.Public())
	}
	candidates := ciphertexts(stripSpace(clientSecret), pub.Size())
	if len(candidates) == 0 {
		return nil, fmt.Errorf("rsaoaep: decrypt: %w (want %d bytes)", ErrEncoding, pub.Size())
	}
	for _, ct := range candidates {
		for i := range oaepParams {
			if pt, err := key.Decrypt(nil, ct, &oaepParams[i]); err == nil {
				return pt, nil
			}
		}
	}
	return nil, fmt.Errorf("rsaoaep: decrypt: %w", ErrDecrypt)
}

// ciphertexts returns the distinct size-byte readings of s.
func ciphertexts(s string, size int) [][]byte {
	decoders := []func(string) ([]byte, error){
		base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString,
		base64.RawURLEncoding.DecodeString,
		hex.DecodeString,
	}
	var out [][]byte
	for _, decode := range decoders {
		b, err := decode(s)
		if err != nil || len(b) != size {
			continue
		}
		if !slices.ContainsFunc(out, func(c []byte) bool { return string(c) == string(b) }) {
			out = append(out, b)
		}
	}
	return out
}

// stripSpace drops ASCII whitespace, as MIME Base64 decoders do (Java's
// getMimeEncoder wraps lines).
func stripSpace(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}
