package root

import (
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
)

func TestEveryCommandEndsItsHelpWithTheExitCodes(t *testing.T) {
	ios, _, _ := cmdutil.TestIOStreams("")
	root := NewCmdRoot(&cmdutil.Factory{IOStreams: ios, Getenv: cmdutil.Env(nil)})
	var names []string
	var walk func(cmds []*cobra.Command)
	walk = func(cmds []*cobra.Command) {
		for _, c := range cmds {
			names = append(names, c.CommandPath())
			assert.True(t, strings.HasSuffix(c.Long, "\n\n"+cmdutil.ExitCodesHelp), c.CommandPath())
			assert.Equal(t, 1, strings.Count(c.Long, cmdutil.ExitCodesHelp), c.CommandPath())
			assert.NotEmpty(t, c.Example, c.CommandPath())
			walk(c.Commands())
		}
	}
	walk(root.Commands())
	assert.Subset(t, names, []string{"kgctl call", "kgctl order", "kgctl callback", "kgctl probe", "kgctl verify", "kgctl fake", "kgctl encrypt", "kgctl decrypt",
		"kgctl usage", "kgctl usage status", "kgctl usage dead", "kgctl usage requeue", "kgctl usage discard"})
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
