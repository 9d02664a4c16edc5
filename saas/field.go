package saas

import (
	"fmt"

	"github.com/isvkit/koogallery/internal/fieldcrypt"
)

// EncryptType names the AES key size of the SaaS V1 field encryption: the
// encryptType of a V1 answer, and the size KooGallery encrypts mobilePhone
// and email with (the "敏感信息加密算法" chosen when the product was released).
type EncryptType string

const (
	// AES256 is encryptType "1", AES-256-CBC: KooGallery's default.
	AES256 EncryptType = "1"
	// AES128 is encryptType "2", AES-128-CBC.
	AES128 EncryptType = "2"
)

// Errors of the field helpers, for errors.Is.
var (
	// ErrEncryptType reports an EncryptType other than AES256 or AES128.
	ErrEncryptType = fieldcrypt.ErrEncryptType
	// ErrMalformedField reports a value that is not 16 IV characters
	// followed by the Base64 of whole AES blocks.
	ErrMalformedField = fieldcrypt.ErrMalformed
	// ErrFieldDecrypt reports a well-formed value that does not decrypt:
	// the wrong Key or the wrong key size.
	ErrFieldDecrypt = fieldcrypt.ErrDecrypt
)

// EncryptField encrypts plaintext as the SaaS V1 appInfo.userName and
// password are sent (《通用和自服务SaaS类商品接入指南 V1.0》›「新购商品」 and its Java
// sample): AES-CBC with PKCS#5 padding under the key Java's SHA1PRNG derives
// from key (the Key of 卖家中心 › 服务商管理 › 服务商信息), written as a fresh random
// IV of 16 letters and digits followed by the standard Base64 of the
// ciphertext. t selects the key size; "" means AES256. KooGallery allows 128
// characters, IV included: a plaintext of at most 79 bytes. NewV1Handler
// encrypts AppInfo itself. Errors never contain the key or the plaintext.
func EncryptField(key, plaintext string, t EncryptType) (string, error) {
	if t == "" {
		t = AES256
	}
	s, err := fieldcrypt.DeriveKeys(key).Encrypt(nil, fieldcrypt.EncryptType(t), plaintext)
	if err != nil {
		return "", fmt.Errorf("saas: encrypt field: %w", err)
	}
	return s, nil
}

// DecryptField decrypts a value encrypted as EncryptField describes, such as
// the mobilePhone and email of a V1 newInstance (which NewV1Handler decrypts
// itself), with the key size t ("" means AES256). A ' ' in the Base64 part is
// read as '+', repairing a value that crossed a query string unencoded.
// Errors wrap ErrEncryptType, ErrMalformedField or ErrFieldDecrypt and never
// contain the key, the value or the plaintext.
func DecryptField(key, value string, t EncryptType) (string, error) {
	if t == "" {
		t = AES256
	}
	s, err := fieldcrypt.DeriveKeys(key).Decrypt(fieldcrypt.EncryptType(t), value)
	if err != nil {
		return "", fmt.Errorf("saas: decrypt field: %w", err)
	}
	return s, nil
}

// maxEncryptedLen is KooGallery's limit on appInfo.userName and password,
// IV included (the String(128) of 「新购商品」).
const maxEncryptedLen = 128

// maxEncryptedPlaintext is the longest plaintext whose encryption fits
// maxEncryptedLen: 79 bytes pad to 80, whose Base64 is 108 characters.
const maxEncryptedPlaintext = 79
