package cmdutil

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSecretFlagsResolveInOrder(t *testing.T) {
	file := filepath.Join(t.TempDir(), "key")
	require.NoError(t, os.WriteFile(file, []byte("from-file\r\n"), 0o600))
	env := Env(map[string]string{"K": "from-env"})

	s := SecretFlags{What: "key", File: file, Value: "from-flag"}
	v, err := s.Resolve(env, "K")
	require.NoError(t, err)
	assert.Equal(t, "from-file", v)
	s.File = ""
	v, _ = s.Resolve(env, "K")
	assert.Equal(t, "from-flag", v)
	s.Value = ""
	v, _ = s.Resolve(env, "K")
	assert.Equal(t, "from-env", v)

	_, err = s.Resolve(env, "OTHER")
	assert.EqualError(t, err, "no key: set OTHER, or pass --key-file or --key")
	code, hint := ExitCode(err)
	assert.Equal(t, ExitUsage, code)
	assert.True(t, hint)

	empty := filepath.Join(t.TempDir(), "empty")
	require.NoError(t, os.WriteFile(empty, []byte("\n"), 0o600))
	_, err = (&SecretFlags{What: "SK", File: empty}).Resolve(env, "K")
	assert.EqualError(t, err, "SK file "+empty+" is empty")
	_, err = (&SecretFlags{What: "SK", File: empty + ".missing"}).Resolve(env, "K")
	code, _ = ExitCode(err)
	assert.Equal(t, ExitRun, code)
}

func TestExitCode(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code int
		hint bool
	}{
		{nil, ExitOK, false},
		{errors.New("unknown command"), ExitUsage, true},
		{UsageErr("bad"), ExitUsage, true},
		{RunErr(errors.New("x")), ExitRun, false},
		{ErrFailed, ExitFailed, false},
		{FailedErr(errors.New("x")), ExitFailed, false},
		{&ExitError{Code: ExitLockout, Err: errors.New("x")}, ExitLockout, false},
	} {
		code, hint := ExitCode(tc.err)
		assert.Equal(t, tc.code, code, "%v", tc.err)
		assert.Equal(t, tc.hint, hint, "%v", tc.err)
	}
}

func TestAPIFlagsBaseURL(t *testing.T) {
	f := &APIFlags{Site: "intl"}
	u, err := f.BaseURL(Env(nil))
	require.NoError(t, err)
	assert.Contains(t, u, "https://")
	u, _ = f.BaseURL(Env(map[string]string{EnvEndpoint: "http://127.0.0.1:8800/x"}))
	assert.Equal(t, "http://127.0.0.1:8800/x", u)
	f.Endpoint = "http://flag"
	u, _ = f.BaseURL(Env(map[string]string{EnvEndpoint: "http://env"}))
	assert.Equal(t, "http://flag", u)
	_, err = (&APIFlags{Site: "mars"}).BaseURL(Env(nil))
	assert.EqualError(t, err, `--site "mars": want china, intl or eu`)
}

func TestConfirm(t *testing.T) {
	for in, want := range map[string]bool{"y\n": true, "YES\r\n": true, " yes ": true, "n\n": false, "\n": false, "": false, "yep\n": false} {
		ios, out, errOut := TestIOStreams(in)
		ok, err := ios.Confirm("Go on?")
		require.NoError(t, err)
		assert.Equal(t, want, ok, "%q", in)
		assert.True(t, strings.HasPrefix(errOut.String(), "Go on? [y/N] "), errOut.String())
		assert.Empty(t, out.String())
	}
}

func TestIsStdinTTY(t *testing.T) {
	ios, _, _ := TestIOStreams("")
	assert.False(t, ios.IsStdinTTY(), "a buffer is no terminal")
	ios.SetStdinTTY(true)
	assert.True(t, ios.IsStdinTTY())
	f, err := os.Open(os.DevNull)
	require.NoError(t, err)
	defer f.Close()
	assert.False(t, (&IOStreams{In: f}).IsStdinTTY(), "/dev/null is a character device, not a terminal")
}
