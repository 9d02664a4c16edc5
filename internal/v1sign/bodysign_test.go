package v1sign

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	specResponseBody = `{"resultCode":"000000","resultMsg":"success","instanceId":"inst-0001"}`
	specBodySign     = `sign_type="HMAC-SHA256", signature="MWjPyFefhm/DU7fC9W/4hhabt99hTWXixuN6Nc0IWRE="`
	specBodySig      = "MWjPyFefhm/DU7fC9W/4hhabt99hTWXixuN6Nc0IWRE="
)

func TestSpecBodySignVector(t *testing.T) {
	t.Parallel()
	assert.Equal(t, specBodySign, BodySign(specKey, []byte(specResponseBody)))
	assert.NoError(t, VerifyBodySign(specKey, []byte(specResponseBody), specBodySign))
}

func TestBodySignCoversExactBytes(t *testing.T) {
	t.Parallel()
	for _, body := range []string{specResponseBody + "\n", " " + specResponseBody, "\t" + specResponseBody + "\t", strings.Replace(specResponseBody, ":", ": ", 1)} {
		err := VerifyBodySign(specKey, []byte(body), specBodySign)
		require.ErrorIs(t, err, ErrMismatch, "%q", body)
		assertNoSecrets(t, err, specKey)
		assert.NotContains(t, err.Error(), specBodySig)
		// ...and each variant signs and verifies on its own bytes.
		assert.NoError(t, VerifyBodySign(specKey, []byte(body), BodySign(specKey, []byte(body))))
	}
	assert.ErrorIs(t, VerifyBodySign("other", []byte(specResponseBody), specBodySign), ErrMismatch)
	// The empty body is signed too.
	assert.NoError(t, VerifyBodySign(specKey, nil, BodySign(specKey, []byte{})))
}

func TestParseBodySignVariants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header string
	}{
		{"canonical", specBodySign},
		{"no space after comma (PHP)", `sign_type="HMAC-SHA256",signature="` + specBodySig + `"`},
		{"space after signature= (doc example)", `sign_type="HMAC-SHA256", signature= "` + specBodySig + `"`},
		{"spaces around =", `sign_type = "HMAC-SHA256" , signature = "` + specBodySig + `"`},
		{"tabs and outer spaces", "\t sign_type=\"HMAC-SHA256\",\tsignature=\"" + specBodySig + "\" "},
		{"reversed order", `signature="` + specBodySig + `", sign_type="HMAC-SHA256"`},
		{"name case", `Sign_Type="hmac-sha256", SIGNATURE="` + specBodySig + `"`},
		{"unknown parameter ignored", `sign_type="HMAC-SHA256", keyid="1", signature="` + specBodySig + `"`},
		{"trailing comma", specBodySign + ","},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			signType, sig, err := ParseBodySign(tc.header)
			require.NoError(t, err)
			assert.True(t, strings.EqualFold(SignTypeHMACSHA256, signType))
			assert.Equal(t, specBodySig, sig)
			assert.NoError(t, VerifyBodySign(specKey, []byte(specResponseBody), tc.header))
		})
	}
}

func TestParseBodySignRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header string
	}{
		{"empty", ""},
		{"unquoted", `sign_type=HMAC-SHA256, signature=` + specBodySig},
		{"unquoted signature", `sign_type="HMAC-SHA256", signature=` + specBodySig},
		{"unterminated", `sign_type="HMAC-SHA256", signature="` + specBodySig},
		{"no signature", `sign_type="HMAC-SHA256"`},
		{"empty signature", `sign_type="HMAC-SHA256", signature=""`},
		{"no sign_type", `signature="` + specBodySig + `"`},
		{"repeated signature", specBodySign + `, signature="` + specBodySig + `"`},
		{"repeated sign_type", `sign_type="HMAC-SHA256", ` + specBodySign},
		{"missing comma", `sign_type="HMAC-SHA256" signature="` + specBodySig + `"`},
		{"no equals", `sign_type`},
		{"empty name", `="x", ` + specBodySign},
		{"double comma", `sign_type="HMAC-SHA256",, signature="` + specBodySig + `"`},
		{"bare token", specBodySig},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := ParseBodySign(tc.header)
			assert.ErrorIs(t, err, ErrMalformed)
			assert.ErrorIs(t, VerifyBodySign(specKey, []byte(specResponseBody), tc.header), ErrMalformed)
		})
	}
	err := VerifyBodySign(specKey, []byte(specResponseBody), `sign_type="HMAC-SHA1", signature="`+specBodySig+`"`)
	assert.ErrorIs(t, err, ErrMalformed, "other sign_type")
}

func FuzzBodySign(f *testing.F) {
	f.Fuzz(func(t *testing.T, header string, body []byte) {
		signType, sig, err := ParseBodySign(header)
		if err == nil && (sig == "" || strings.ContainsRune(sig, '"') || strings.ContainsRune(signType, '"')) {
			t.Fatalf("parsed an impossible value from %q", header)
		}
		_ = VerifyBodySign(specKey, body, header)
		own := BodySign(specKey, body)
		if err := VerifyBodySign(specKey, body, own); err != nil {
			t.Fatalf("own Body-Sign refused: %v", err)
		}
	})
}

// TestErrorsNameTheOperation checks every exported failure path names the
// package and operation.
func TestErrorsNameTheOperation(t *testing.T) {
	t.Parallel()
	_, err1 := ParseQuery("a=%zz")
	q, err := ParseQuery("a=1")
	require.NoError(t, err)
	_, err2 := KitStringToSign([]byte("{"))
	_, err3 := SignKit(specKey, []byte("[]"))
	_, _, err4 := ParseBodySign("x")
	errs := []error{
		err1, q.Verify(specKey), err2, err3, err4,
		VerifyKit(specKey, []byte(specKitBody), "x"),
		VerifyBodySign(specKey, nil, specBodySign),
		VerifyQueryValues(specKey, nil),
	}
	for i, err := range errs {
		require.Error(t, err, i)
		assert.Regexp(t, `^v1sign: [a-z]`, err.Error(), i)
	}
}
