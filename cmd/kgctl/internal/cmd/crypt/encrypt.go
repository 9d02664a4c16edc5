package crypt

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/saas"
)

// EncryptOptions are kgctl encrypt's inputs.
type EncryptOptions struct {
	IO     *cmdutil.IOStreams
	Getenv func(string) string

	Key   cmdutil.SecretFlags
	Type  string
	Input Input // PLAINTEXT, or a line of standard input
}

// NewCmdEncrypt returns kgctl encrypt; runF replaces the run function in
// tests (nil: encryptRun).
func NewCmdEncrypt(f *cmdutil.Factory, runF func(*EncryptOptions) error) *cobra.Command {
	opts := &EncryptOptions{IO: f.IOStreams, Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "encrypt [PLAINTEXT|-]",
		Short: "Encrypt a value the SaaS V1 way (appInfo userName/password)",
		Long: `encrypt encrypts PLAINTEXT (or a line of standard input) as KooGallery's SaaS V1 interface expects
appInfo.userName and appInfo.password: AES-CBC with PKCS#5 padding under the key Java's SHA1PRNG derives
from the Key, a random 16-character IV, written as the IV followed by the Base64 ciphertext.
--type 1 (AES-256, KooGallery's default) or 2 (AES-128) matches the answer's encryptType.

The Key is the one of 卖家中心 › 服务商管理 › 服务商信息, from --key-file, --key or KOOGALLERY_V1_KEY.
KooGallery accepts at most 128 characters, which a plaintext of at most 79 bytes meets.`,
		Example: `  export KOOGALLERY_V1_KEY=...
  kgctl encrypt admin
  printf 'S3cret!\n' | kgctl encrypt --type 2 -`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Input.set(args)
			if runF != nil {
				return runF(opts)
			}
			return encryptRun(opts)
		},
	}
	opts.Key.Register(cmd, "key", "key", cmdutil.EnvV1Key)
	cmd.Flags().StringVar(&opts.Type, "type", "1", "encryptType: 1 (AES-256) or 2 (AES-128)")
	return cmd
}

func encryptRun(opts *EncryptOptions) error {
	t, err := encryptType(opts.Type)
	if err != nil {
		return err
	}
	k, err := opts.Key.Resolve(opts.Getenv, cmdutil.EnvV1Key)
	if err != nil {
		return err
	}
	pt, err := opts.Input.read(opts.IO.In)
	if err != nil {
		return err
	}
	out, err := saas.EncryptField(k, pt, t)
	if err != nil {
		return cmdutil.FailedErr(err)
	}
	fmt.Fprintln(opts.IO.Out, out)
	if len(out) > 128 {
		fmt.Fprintf(opts.IO.ErrOut, "kgctl: warning: %d characters; KooGallery accepts at most 128 for userName and password\n", len(out))
	}
	return nil
}
