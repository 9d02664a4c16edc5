package crypt

import (
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
)

// The spec's vectors for this key.
const key = "5f2b1c9a-7d43-4e8b-9a61-0c3e2d4f8b17"

func env(k string) func(string) string { return cmdutil.Env(map[string]string{cmdutil.EnvV1Key: k}) }

func exitCode(err error) int { c, _ := cmdutil.ExitCode(err); return c }

func TestDecryptRunTriesBothSizes(t *testing.T) {
	ios, out, errOut := cmdutil.TestIOStreams("A1b2C3d4E5f6G7h8neKPe+RLly/zhmyBti9dt8nRsRPJCHoB2jpmE9T7DlI=\n")
	err := decryptRun(&DecryptOptions{IO: ios, Getenv: env(key), Input: Input{FromStdin: true}})
	require.NoError(t, err)
	assert.Equal(t, "Admin@KooGallery\n", out.String())
	assert.Equal(t, "kgctl: decrypted with encryptType 2 (AES-128)\n", errOut.String())
}

func TestEncryptDecryptRoundTrip(t *testing.T) {
	for _, typ := range []string{"1", "2"} {
		ios, out, _ := cmdutil.TestIOStreams("")
		require.NoError(t, encryptRun(&EncryptOptions{IO: ios, Getenv: env(key), Type: typ, Input: Input{Value: "S3cret pass"}}))
		enc := strings.TrimSpace(out.String())
		assert.NotContains(t, enc, "S3cret")

		ios, out, errOut := cmdutil.TestIOStreams("")
		require.NoError(t, decryptRun(&DecryptOptions{IO: ios, Getenv: env(key), Type: typ, Input: Input{Value: enc}}))
		assert.Equal(t, "S3cret pass\n", out.String())
		assert.Empty(t, errOut.String(), "with --type, no note of the size")
	}
}

func TestDecryptRunFailures(t *testing.T) {
	const wrong = "the-wrong-key-123"
	ios, out, errOut := cmdutil.TestIOStreams("")
	err := decryptRun(&DecryptOptions{IO: ios, Getenv: env(wrong), Input: Input{Value: "A1b2C3d4E5f6G7h8VH9Md9sa/hHKhzMJvfUGzrs1GTtgmIuvs1xxk5luqPg="}})
	require.Error(t, err)
	assert.Equal(t, cmdutil.ExitFailed, exitCode(err))
	assert.Contains(t, err.Error(), "does not decrypt with this Key as AES-256 or AES-128")
	assert.NotContains(t, err.Error()+out.String()+errOut.String(), wrong)
	assert.Empty(t, out.String())

	err = decryptRun(&DecryptOptions{IO: ios, Getenv: env(key), Input: Input{Value: "short"}})
	assert.Equal(t, cmdutil.ExitFailed, exitCode(err))
	assert.Contains(t, err.Error(), "not an encrypted field")

	// No key anywhere: a usage error naming where it looked.
	err = decryptRun(&DecryptOptions{IO: ios, Getenv: env(""), Input: Input{Value: "x"}})
	assert.Equal(t, cmdutil.ExitUsage, exitCode(err))
	assert.EqualError(t, err, "no key: set KOOGALLERY_V1_KEY, or pass --key-file or --key")
}

func TestEncryptRunWarnsAndRefusesABadType(t *testing.T) {
	ios, out, errOut := cmdutil.TestIOStreams("")
	require.NoError(t, encryptRun(&EncryptOptions{IO: ios, Getenv: env(key), Type: "1", Input: Input{Value: strings.Repeat("x", 100)}}))
	assert.NotEmpty(t, out.String())
	assert.Contains(t, errOut.String(), "at most 128")
	assert.NotContains(t, out.String()+errOut.String(), key)

	err := encryptRun(&EncryptOptions{IO: ios, Getenv: env(key), Type: "3", Input: Input{Value: "x"}})
	assert.Equal(t, cmdutil.ExitUsage, exitCode(err))
	assert.EqualError(t, err, `--type "3": want 1 (AES-256) or 2 (AES-128)`)
}

func TestNewCmdWiresFlagsAndArguments(t *testing.T) {
	ios, _, _ := cmdutil.TestIOStreams("")
	f := &cmdutil.Factory{IOStreams: ios, Getenv: env("")}
	var got *EncryptOptions
	cmd := NewCmdEncrypt(f, func(o *EncryptOptions) error { got = o; return errors.New("stop") })
	cmd.SetArgs([]string{"--type", "2", "--key-file", "k.txt", "-"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	require.EqualError(t, cmd.Execute(), "stop")
	assert.Equal(t, "2", got.Type)
	assert.Equal(t, "k.txt", got.Key.File)
	assert.True(t, got.Input.FromStdin)

	var dgot *DecryptOptions
	dcmd := NewCmdDecrypt(f, func(o *DecryptOptions) error { dgot = o; return nil })
	dcmd.SetArgs([]string{"VALUE"})
	require.NoError(t, dcmd.Execute())
	assert.Equal(t, Input{Value: "VALUE"}, dgot.Input)
	assert.Equal(t, "", dgot.Type)
}
