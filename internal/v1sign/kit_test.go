package v1sign

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// specKitBody is the kit wire body of §9.6, signed V1-style in §9.7.
const (
	specKitBody  = `{"tenantId": "b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6", "instanceId": "inst-0001", "orderId": "CS2611270001ABCDE", "tenantCode": "acme", "name": "ACME Ltd", "domainName": "https://acme.example.com", "flag": 1, "testFlag": 0, "timeStamp": "20261127163000123"}`
	specKitToken = "pr5kVizO2JrFQ5L2v7ZlCqAIeZPBVae78mYeeYIhVog="
	specKitTS    = "20261127163000123"
)

func TestSpecKitVector(t *testing.T) {
	t.Parallel()
	signed, err := KitStringToSign([]byte(specKitBody))
	require.NoError(t, err)
	assert.Equal(t, "domainName=https://acme.example.com&flag=1&instanceId=inst-0001&name=ACME Ltd&orderId=CS2611270001ABCDE"+
		"&tenantCode=acme&tenantId=b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6&testFlag=0&timeStamp=20261127163000123", signed)
	assert.Equal(t, specKitToken, signWithStdlib(specKey, specKitTS, signed), "oracle")

	token, err := SignKit(specKey, []byte(specKitBody))
	require.NoError(t, err)
	assert.Equal(t, specKitToken, token)
	assert.NoError(t, VerifyKit(specKey, []byte(specKitBody), specKitToken))
	assert.NoError(t, VerifyKit(specKey, []byte(specKitBody), strings.ReplaceAll(specKitToken, "+", " ")), "space for plus")
	assert.NoError(t, VerifyKit(specKey, []byte(specKitBody), strings.TrimRight(specKitToken, "=")), "unpadded")

	// Member order and whitespace do not matter; values do.
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(specKitBody), &m))
	compact, err := json.Marshal(m)
	require.NoError(t, err)
	assert.NoError(t, VerifyKit(specKey, compact, specKitToken))
}

func TestVerifyKitRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		key   string
		body  string
		token string
		want  error
	}{
		{"wrong key", "other", specKitBody, specKitToken, ErrMismatch},
		{"changed name", specKey, strings.Replace(specKitBody, "ACME Ltd", "ACME Ltd.", 1), specKitToken, ErrMismatch},
		{"changed number", specKey, strings.Replace(specKitBody, `"flag": 1`, `"flag": 0`, 1), specKitToken, ErrMismatch},
		{"number sent as a string signs the same", specKey, strings.Replace(specKitBody, `"flag": 1`, `"flag": "1"`, 1), specKitToken, nil},
		{"added field", specKey, strings.Replace(specKitBody, `{`, `{"x":"y",`, 1), specKitToken, ErrMismatch},
		{"added null field is skipped", specKey, strings.Replace(specKitBody, `{`, `{"x":null,`, 1), specKitToken, nil},
		{"added blank field is skipped", specKey, strings.Replace(specKitBody, `{`, `{"x":" \t\u3000",`, 1), specKitToken, nil},
		{"changed timeStamp", specKey, strings.Replace(specKitBody, "163000123", "163000124", 1), specKitToken, ErrMismatch},
		{"no token", specKey, specKitBody, "", ErrMissingToken},
		{"garbage token", specKey, specKitBody, "not base64 !!", ErrMismatch},
		{"no timeStamp", specKey, strings.Replace(specKitBody, `"timeStamp": "20261127163000123"`, `"t": 1`, 1), specKitToken, ErrMissingTimeStamp},
		{"blank timeStamp", specKey, strings.Replace(specKitBody, `"20261127163000123"`, `"  "`, 1), specKitToken, ErrMissingTimeStamp},
		{"not JSON", specKey, "tenantId=x", specKitToken, ErrMalformed},
		{"JSON array", specKey, `[1,2]`, specKitToken, ErrMalformed},
		{"JSON null", specKey, `null`, specKitToken, ErrMalformed},
		{"trailing garbage", specKey, specKitBody + "x", specKitToken, ErrMalformed},
		{"empty body", specKey, "", specKitToken, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := VerifyKit(tc.key, []byte(tc.body), tc.token)
			if tc.want == nil {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			assertNoSecrets(t, err, tc.key)
			assert.NotContains(t, err.Error(), specKitToken)
		})
	}
}

func TestKitStringToSignStringification(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want string
	}{
		{"integers and booleans as literals", `{"b":true,"a":1,"c":-2.5}`, "a=1&b=true&c=-2.5"},
		{"strings verbatim, no URL decoding", `{"a":"x+y%20z&w=v"}`, "a=x+y%20z&w=v"},
		{"escapes decoded", `{"a":"\u4e2d\n\"q\""}`, "a=中\n\"q\""},
		{"JSON-string userList verbatim (V1)", `{"userList":"[{\"userName\":\"u1\",\"role\":\"admin\"}]"}`, `userList=[{"userName":"u1","role":"admin"}]`},
		{"array userList compacted in received order (V2 on V1, GAP)", `{"userList": [ {"userName": "u1", "role": "admin"} ]}`, `userList=[{"userName":"u1","role":"admin"}]`},
		{"object compacted", `{"extension": {"z": 1, "a": [ ]}}`, `extension={"z":1,"a":[]}`},
		{"empty string skipped", `{"a":"","b":"1"}`, "b=1"},
		{"java whitespace skipped", `{"a":"\t\n\u000b\f\r\u001c\u2028\u3000 ","b":"1"}`, "b=1"},
		{"no-break spaces are not blank", `{"a":"\u00a0","b":"\u2007","c":"\u202f"}`, "a=\u00a0&b=\u2007&c=\u202f"},
		{"NEL is not java whitespace", `{"a":"\u0085"}`, "a=\u0085"},
		{"padded string kept as is", `{"a":" x "}`, "a= x "},
		{"null skipped", `{"a":null,"b":"1"}`, "b=1"},
		{"repeated name: last wins", `{"a":"1","a":"2"}`, "a=2"},
		{"java order of names", `{"Ａ":"1","😀":"2","Z":"3"}`, "Z=3&😀=2&Ａ=1"},
		{"empty object", `{}`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := KitStringToSign([]byte(tc.body))
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestJavaBlank(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"", " ", "\t\r\n", "\u2000\u200a", "\u3000", "\u001f"} {
		assert.True(t, javaBlank(s), "%q", s)
	}
	for _, s := range []string{"x", " x", "\u00a0", "\u2007", "\u202f", "\u0085", "\u200b", "\ufeff"} {
		assert.False(t, javaBlank(s), "%q", s)
	}
}

func TestSignKitRefuses(t *testing.T) {
	t.Parallel()
	_, err := SignKit(specKey, []byte(`{"a":1}`))
	assert.ErrorIs(t, err, ErrMissingTimeStamp)
	_, err = SignKit(specKey, []byte(`{`))
	assert.ErrorIs(t, err, ErrMalformed)
}

func FuzzKitToken(f *testing.F) {
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		_, err := KitStringToSign(body)
		token, signErr := SignKit(key, body)
		if err != nil {
			if signErr == nil {
				t.Fatal("SignKit accepted a body KitStringToSign refused")
			}
			return
		}
		if signErr != nil {
			// Only a missing timeStamp may stop signing a readable body.
			if !errors.Is(signErr, ErrMissingTimeStamp) {
				t.Fatalf("sign: %v", signErr)
			}
			return
		}
		if err := VerifyKit(key, body, token); err != nil {
			t.Fatalf("own token refused: %v", err)
		}
		if err := VerifyKit(key+"x", body, token); err == nil {
			t.Fatal("token verified under another key")
		}
	})
}
