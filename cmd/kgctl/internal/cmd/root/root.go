// Package root holds the kgctl command and puts the commands under it.
package root

import (
	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmd/call"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmd/callback"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmd/crypt"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmd/fake"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmd/order"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmd/probe"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmd/usage"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmd/verify"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
)

// NewCmdRoot returns kgctl with every command, built from f: it reads and
// writes f's streams.
func NewCmdRoot(f *cmdutil.Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "kgctl",
		Short: "The KooGallery seller's command line",
		Long: `kgctl signs and explains KooGallery open-API calls, queries orders, plays KooGallery
against your production interfaces (one callback, or the whole probe KooGallery runs twice a
day), tells why a captured callback does not verify, runs the fake marketplace for local
development, does the SaaS V1 field encryption, and operates the PostgreSQL usage outbox.

Credentials and keys are read from the environment, a file or a flag, and never printed:
  HUAWEICLOUD_SDK_AK, HUAWEICLOUD_SDK_SK, HUAWEICLOUD_SDK_SECURITY_TOKEN   open-API AK/SK (call, order)
  KOOGALLERY_ACCESS_KEY    callback accessKey: SaaS V2, License, orderNotify (卖家中心 › 应用工具 › 密钥管理)
  KOOGALLERY_KIT_KEY       joint-operation kit key (kit, kit-v1)
  KOOGALLERY_V1_KEY        the Key of SaaS V1 (卖家中心 › 服务商管理 › 服务商信息; saas-v1, encrypt, decrypt)
  KOOGALLERY_ENDPOINT      open-API base URL instead of the site's (for kgctl fake)
  KOOGALLERY_DATABASE_URL  the usage outbox's PostgreSQL, as the seller server reads it (usage)

` + cmdutil.ExitCodesHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
		Example: `  kgctl fake &                                   # a fake marketplace on 127.0.0.1:8800
  kgctl order MOCKPERIODYEARNEW                  # query an order
  kgctl probe --family saas --url https://seller.example.com/isv/produce`,
	}
	root.SetIn(f.IOStreams.In)
	root.SetOut(f.IOStreams.Out)
	root.SetErr(f.IOStreams.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return cmdutil.UsageErr("%w", err) })
	root.AddCommand(
		call.NewCmdCall(f, nil),
		order.NewCmdOrder(f, nil),
		callback.NewCmdCallback(f, nil),
		probe.NewCmdProbe(f, nil),
		verify.NewCmdVerify(f, nil),
		fake.NewCmdFake(f, nil),
		crypt.NewCmdEncrypt(f, nil),
		crypt.NewCmdDecrypt(f, nil),
		usage.NewCmdUsage(f),
	)
	addExitCodes(root.Commands())
	return root
}

// addExitCodes ends the long help of cmds and their commands with the exit
// codes.
func addExitCodes(cmds []*cobra.Command) {
	for _, c := range cmds {
		if c.Long == "" {
			c.Long = c.Short
		}
		c.Long += "\n\n" + cmdutil.ExitCodesHelp
		addExitCodes(c.Commands())
	}
}
