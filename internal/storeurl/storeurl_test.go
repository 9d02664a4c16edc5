package storeurl

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A password with each character a URL gives a meaning to, written as is:
// Check refuses the URL and its error holds no piece of the password.
func TestCheckNeverQuotesThePassword(t *testing.T) {
	t.Parallel()
	for _, pw := range []string{"Pa55/w0rdXyz", "Pa55#w0rdXyz", "Pa55?w0rdXyz", "Pa55@w0rdXyz", "Pa55%zzw0rdXyz", "Pa55/9@w0rd", "Pa55:w0rd/Xyz"} {
		for _, raw := range []string{
			"postgres://app:" + pw + "@127.0.0.1:5432/db",
			"redis://:" + pw + "@127.0.0.1:6379/0",
		} {
			scheme, _, _ := strings.Cut(raw, "://")
			_, err := Check("VAR", raw, scheme)
			require.Error(t, err, raw)
			assert.True(t, strings.HasPrefix(err.Error(), "VAR: "), err.Error())
			for i := 0; i+4 <= len(pw); i++ {
				assert.NotContains(t, err.Error(), pw[i:i+4], "%s: %v", raw, err)
			}
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"postgres://app:pw@127.0.0.1:5432/db":     "",
		"postgresql://app:pw@h1:5432,h2:5433/db":  "",
		"redis://127.0.0.1:6379/0":                "the scheme is not postgres or postgresql",
		"postgres:app:pw@127.0.0.1/db":            "no // after the scheme",
		"postgres:///db":                          "the URL has no host",
		"postgres://app:pw@127.0.0.1:99999/db":    "the port is not a number from 1 to 65535",
		"postgres://app:p@w@127.0.0.1:5432/db":    "unencoded \"@\"",
		"postgres://app:pw@127.0.0.1:5432/db#x":   "after its host",
		"postgres://app:p%zw@127.0.0.1:5432/db":   `a "%" is not followed by two hexadecimal digits`,
		"postgres://app:pw@127.0.0.1:5432/d\x01b": "a control character",
	} {
		u, err := Check("VAR", raw, "postgres", "postgresql")
		if want == "" {
			assert.NoError(t, err, raw)
			assert.NotNil(t, u)
			continue
		}
		assert.ErrorContains(t, err, want, raw)
	}
	assert.Equal(t, "app:pw@h:1", Authority("postgres://app:pw@h:1/db?x#y"))
	assert.Equal(t, "", Authority("no-scheme"))
}
