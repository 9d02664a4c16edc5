package saas_test

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/callbacktest"
	"github.com/isvkit/koogallery/saas"
)

// Spec §9.1 and §9.8: keys and the first 16 and 32 bytes Java's SHA1PRNG
// derives from them.
var javaKeys = [][3]string{
	{accessKey, "cf87dd98aa5c47c94d94436d1425fb0d", "cf87dd98aa5c47c94d94436d1425fb0dcd59886dd40865b433f04e44edeb71b4"},
	{"6513270e-269e-0d37-f2a7-4de452e6b438", "58a6625495402832fd1b85cec00660dd", "58a6625495402832fd1b85cec00660dd0b41ab82d0b0e24dae7824f5d2998f43"},
	{"e0IgxLd", "e8af9393ea0ad894ee50496b3be2a68d", "e8af9393ea0ad894ee50496b3be2a68d770bfd1118842405e3b866a385b33639"},
	{"099950d8-36f6-75cc-81e7-4ef5e8e25d94", "707288b8434f9e67e82b1c2518e91270", "707288b8434f9e67e82b1c2518e91270bd9977b74491f53d78cb42f29bbecc27"},
	{"BAepfJBd0Kh8", "b3a96da4db3c465e4a4249c42abbfd51", "b3a96da4db3c465e4a4249c42abbfd516a71c3497e0f45333a49919f4e5dc462"},
	{"953f48f1-a09f-76b5-a170-b33839263059", "8ccf77f2648c940ab41603c5676b68ce", "8ccf77f2648c940ab41603c5676b68ce100f9c4f025ca8cf6f9338d60e88e3ab"},
}

// javaEncrypt encrypts as Huawei's Java code would with the AES key Java
// derived (given as hex): AES/CBC/PKCS5Padding, IV text prepended.
func javaEncrypt(t *testing.T, keyHex, plaintext string) string {
	t.Helper()
	key, err := hex.DecodeString(keyHex)
	require.NoError(t, err)
	block, err := aes.NewCipher(key)
	require.NoError(t, err)
	pad := aes.BlockSize - len(plaintext)%aes.BlockSize
	buf := []byte(plaintext)
	for range pad {
		buf = append(buf, byte(pad))
	}
	cipher.NewCBCEncrypter(block, []byte(specIV)).CryptBlocks(buf, buf)
	return specIV + base64.StdEncoding.EncodeToString(buf)
}

// A V1 handler built from each Key decrypts what Java encrypted with the key
// Java's SHA1PRNG derives, with no fallback: the handler's derivation is
// Java's, end to end, for both sizes.
func TestV1HandlerJavaKeyDerivation(t *testing.T) {
	t.Parallel()
	for _, k := range javaKeys {
		for _, tt := range []struct {
			et     saas.EncryptType
			keyHex string
		}{{saas.AES128, k[1]}, {saas.AES256, k[2]}} {
			t.Run(k[0]+"/"+string(tt.et), func(t *testing.T) {
				t.Parallel()
				var got string
				p := &v1Provider{newInstance: func(_ context.Context, req *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
					got = req.MobilePhone
					return &saas.V1NewInstanceResponse{InstanceID: "i"}, nil
				}}
				h := saas.NewV1Handler(k[0], p, saas.WithEncryptType(tt.et), callback.WithLogger(discard))
				raw := signedRawWithKey(t, k[0], map[string]string{"activity": "newInstance", "orderId": "O", "businessId": "b",
					"mobilePhone": javaEncrypt(t, tt.keyHex, "13800138000")})
				assert.Contains(t, httptestGet(h, "/?"+raw), `"resultCode":"000000"`)
				assert.Equal(t, "13800138000", got)
			})
		}
	}
	// §9.2 exactly, through the handler, is in TestV1IncomingFieldsDecrypted.
	assert.Equal(t, specPhone256, javaEncrypt(t, javaKeys[0][2], "13800138000"), "the helper reproduces §9.2")
}

func TestV1UnknownInstanceStatusPassedThrough(t *testing.T) {
	t.Parallel()
	p := &v1Provider{}
	e := newV1Env(t, p, nil)
	res := e.send(t, map[string]string{"activity": "instanceStatus", "instanceId": "i", "instanceStatus": "SUSPENDED"})
	assert.Equal(t, "000000", res.ResultCode)
	assert.Equal(t, saas.Status("SUSPENDED"), callbacktest.LastAs[*saas.V1InstanceStatusRequest](t, &p.Recorder).Status, "[GAP] only FREEZE and NORMAL are documented")
}
