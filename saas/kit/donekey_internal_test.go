package kit

import (
	"crypto/sha256"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/internal/canonjson"
)

// The kit V2 done guard's key is the SHA-256 of the body's canonical form.
// canonicalSum streams it from pooled state; it must give the very sum of
// canonjson.Append, or records written before an upgrade would no longer
// be found by a replica after it.
func TestCanonicalSumIsTheCanonicalFormsSum(t *testing.T) {
	for _, body := range []string{
		`{"tenantId":"t","flag":1}`,
		`{ "flag" : 1 , "tenantId" : "t" }`,
		`{"a":null,"b":[1, {"c": "d"}],"e":"\u4e2d\/"}`,
		"{\"0\xc8\":\"\"}",
		`{}`,
	} {
		want, err := canonjson.Append(nil, []byte(body))
		require.NoError(t, err)
		for range 3 { // pooled state reused
			assert.Equal(t, sha256.Sum256(want), canonicalSum([]byte(body)), "%s", body)
		}
	}
}
