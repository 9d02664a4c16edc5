package vectors

import (
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const dir = "../../testdata/vectors"

// TestFilesAreCurrent fails when the published vectors differ from what the
// SDK computes: regenerate with `go run ./internal/vectors/gen` and say why
// in the commit (a changed vector is a changed wire format).
func TestFilesAreCurrent(t *testing.T) {
	files, err := Generate()
	require.NoError(t, err)
	require.Len(t, files, 8)
	for _, name := range names(files) {
		want, err := Marshal(files[name])
		require.NoError(t, err)
		got, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err, "go run ./internal/vectors/gen")
		assert.Equal(t, string(want), string(got), "%s is stale: go run ./internal/vectors/gen", name)
		assert.GreaterOrEqual(t, len(files[name].Vectors), 2, name)
	}
}

// TestSpecVectors holds the generator to the published values it repeats:
// the spec's derived keys, field, V2, kit and V1 vectors.
func TestSpecVectors(t *testing.T) {
	assert.Equal(t, "cf87dd98aa5c47c94d94436d1425fb0d", hex.EncodeToString(sha1PRNG([]byte(Key), 16)))
	assert.Equal(t, "cf87dd98aa5c47c94d94436d1425fb0dcd59886dd40865b433f04e44edeb71b4", hex.EncodeToString(sha1PRNG([]byte(Key), 32)))
	// Outputs of Java's own SHA1PRNG.
	assert.Equal(t, "e8af9393ea0ad894ee50496b3be2a68d770bfd1118842405e3b866a385b33639", hex.EncodeToString(sha1PRNG([]byte("e0IgxLd"), 32)))
	assert.Equal(t, "b3a96da4db3c465e4a4249c42abbfd516a71c3497e0f45333a49919f4e5dc462", hex.EncodeToString(sha1PRNG([]byte("BAepfJBd0Kh8"), 32)))

	files, err := Generate()
	require.NoError(t, err)
	field := files["field-encryption.json"].Vectors
	assert.Equal(t, "A1b2C3d4E5f6G7h8neKPe+RLly/zhmyBti9dt8nRsRPJCHoB2jpmE9T7DlI=", field[0].(fieldCase).Field)
	assert.Equal(t, "A1b2C3d4E5f6G7h8VH9Md9sa/hHKhzMJvfUGzrs1GTtgmIuvs1xxk5luqPg=", field[1].(fieldCase).Field)
	assert.Equal(t, "A1b2C3d4E5f6G7h8qh4nuZNlRTzxpqAOqs2A0w==", field[2].(fieldCase).Field)
	assert.Equal(t, "8D8C154D240D3D72DBC0EEEFC70C12D78E81995D3245BFEC64EEAA771258D318", files["v2.json"].Vectors[0].(v2Case).Signature)
	assert.Equal(t, "3aa8d2269516e2ae502a9fd2c814397fabd5fc16554dbb73b5998c86e37fab3b", files["kit.json"].Vectors[0].(kitCase).Signature)
	assert.Equal(t, "pr5kVizO2JrFQ5L2v7ZlCqAIeZPBVae78mYeeYIhVog=", files["v1-kit.json"].Vectors[0].(v1KitCase).AuthToken)
	assert.Equal(t, `sign_type="HMAC-SHA256", signature="MWjPyFefhm/DU7fC9W/4hhabt99hTWXixuN6Nc0IWRE="`, files["body-sign.json"].Vectors[0].(bodySignCase).BodySign)
	q := files["v1-query.json"].Vectors[0].(v1QueryCase)
	assert.Equal(t, "activity=refreshInstance&expireTime=20271231235959&instanceId=inst-0001&orderId=CS2611270001ABCDE&periodNumber=1&periodType=year&productId=OFFI000000000000000001&testFlag=0&timeStamp=20261127083000123", q.StringToSign)
	assert.Equal(t, "ISQPmsWS3la/5IRnLdpTh0W9iyazgtByiifep/O/0vI=", q.AuthToken)
}

// TestNodeRecomputes runs testdata/vectors/check.mjs, which recomputes
// every vector from its inputs with Node's built-in crypto, when node is
// installed (.ci/run installs it and runs the script itself).
func TestNodeRecomputes(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Log("node is not installed here; .ci/run runs check.mjs")
		return
	}
	out, err := exec.Command(node, filepath.Join(dir, "check.mjs"), dir).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), " passed, 0 failed")
	assert.False(t, strings.Contains(string(out), "FAIL"), "%s", out)
}
