package root

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
)

func TestEveryCommandEndsItsHelpWithTheExitCodes(t *testing.T) {
	ios, _, _ := cmdutil.TestIOStreams("")
	root := NewCmdRoot(&cmdutil.Factory{IOStreams: ios, Getenv: cmdutil.Env(nil)})
	var names []string
	for _, c := range root.Commands() {
		names = append(names, c.Name())
		assert.Contains(t, c.Long, "\n\n"+cmdutil.ExitCodesHelp, c.Name())
		assert.NotEmpty(t, c.Example, c.Name())
	}
	assert.Subset(t, names, []string{"call", "order", "callback", "probe", "verify", "fake", "encrypt", "decrypt"})
}

func TestHelpGoesToTheFactorysOutput(t *testing.T) {
	ios, out, errOut := cmdutil.TestIOStreams("")
	root := NewCmdRoot(&cmdutil.Factory{IOStreams: ios, Getenv: cmdutil.Env(nil)})
	root.SetArgs([]string{"probe", "--help"})
	require.NoError(t, root.Execute())
	assert.Contains(t, out.String(), "Usage:\n  kgctl probe --family FAMILY --url URL [flags]\n")
	assert.Empty(t, errOut.String())
}

func TestFlagErrorsAreUsageErrors(t *testing.T) {
	ios, out, _ := cmdutil.TestIOStreams("")
	root := NewCmdRoot(&cmdutil.Factory{IOStreams: ios, Getenv: cmdutil.Env(nil)})
	root.SetArgs([]string{"call", "--nosuchflag", "https://example.com/x"})
	err := root.Execute()
	code, hint := cmdutil.ExitCode(err)
	assert.Equal(t, cmdutil.ExitUsage, code)
	assert.True(t, hint)
	assert.EqualError(t, err, "unknown flag: --nosuchflag")
	assert.Empty(t, out.String(), "no usage dump")
}
