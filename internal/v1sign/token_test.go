package v1sign

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestTokenMAC(t *testing.T) {
	t.Parallel()
	want, err := base64.StdEncoding.DecodeString(specV1Token)
	require.NoError(t, err)
	for _, tt := range []struct {
		name, token string
		ok          bool
	}{
		{"canonical", specV1Token, true},
		{"unpadded", strings.TrimSuffix(specV1Token, "="), true},
		{"empty", "", false},
		{"too long", specV1Token + "A", false},
		{"not base64", "!" + specV1Token[1:], false},
		{"31 bytes", base64.StdEncoding.EncodeToString(want[:31]), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mac, ok := TokenMAC(tt.token)
			if tt.ok {
				require.True(t, ok)
				assert.Equal(t, want, mac[:])
			} else if ok {
				assert.NotEqual(t, want, mac[:])
			}
		})
	}
}

// The last character of a 44-character token carries two unused bits. A
// lenient decoder ignores them, so flipping one would leave the MAC, and the
// verdict, unchanged: a changed byte that still verifies. Strict decoding
// refuses every such change.
func TestTokenUnusedBitsRefused(t *testing.T) {
	t.Parallel()
	q := specV1Values()
	last := strings.IndexByte(base64Alphabet, specV1Token[42])
	require.GreaterOrEqual(t, last, 0)
	require.Zero(t, last&3, "the canonical token has zero unused bits")
	for bits := 1; bits < 4; bits++ {
		token := specV1Token[:42] + string(base64Alphabet[last|bits]) + "="
		q.Set(ParamAuthToken, token)
		assert.ErrorIs(t, VerifyQueryValues(specKey, q), ErrMismatch, "unused bits %d", bits)
		_, ok := TokenMAC(token)
		assert.False(t, ok)
	}
	q.Set(ParamAuthToken, specV1Token)
	assert.NoError(t, VerifyQueryValues(specKey, q))
}

const base64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
