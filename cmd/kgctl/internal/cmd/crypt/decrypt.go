package crypt

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/saas"
)

// DecryptOptions are kgctl decrypt's inputs.
type DecryptOptions struct {
	IO     *cmdutil.IOStreams
	Getenv func(string) string

	Key   cmdutil.SecretFlags
	Type  string // "" tries both sizes
	Input Input  // VALUE, or a line of standard input
}

// NewCmdDecrypt returns kgctl decrypt; runF replaces the run function in
// tests (nil: decryptRun).
func NewCmdDecrypt(f *cmdutil.Factory, runF func(*DecryptOptions) error) *cobra.Command {
	opts := &DecryptOptions{IO: f.IOStreams, Getenv: f.Getenv}
	cmd := &cobra.Command{
		Use:   "decrypt [VALUE|-]",
		Short: "Decrypt a SaaS V1 encrypted value (mobilePhone, email, appInfo credentials)",
		Long: `decrypt decrypts a value encrypted the SaaS V1 way (see kgctl encrypt), such as the mobilePhone and
email of a V1 newInstance or the appInfo credentials of an answer. Without --type it tries AES-256,
then AES-128, and says which one worked: the size KooGallery uses for incoming fields is the
"敏感信息加密算法" chosen when the product was released. A ' ' in the value is read as '+' (a value
that crossed a query string without percent-encoding).

The Key comes from --key-file, --key or KOOGALLERY_V1_KEY.`,
		Example: `  export KOOGALLERY_V1_KEY=...
  kgctl decrypt 'A1b2C3d4E5f6G7h8qh4nuZNlRTzxpqAOqs2A0w=='
  kgctl decrypt --type 2 - < field.txt`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Input.set(args)
			if runF != nil {
				return runF(opts)
			}
			return decryptRun(opts)
		},
	}
	opts.Key.Register(cmd, "key", "key", cmdutil.EnvV1Key)
	cmd.Flags().StringVar(&opts.Type, "type", "", "encryptType: 1 (AES-256) or 2 (AES-128); default: try both")
	return cmd
}

func decryptRun(opts *DecryptOptions) error {
	k, err := opts.Key.Resolve(opts.Getenv, cmdutil.EnvV1Key)
	if err != nil {
		return err
	}
	v, err := opts.Input.read(opts.IO.In)
	if err != nil {
		return err
	}
	types := []saas.EncryptType{saas.AES256, saas.AES128}
	if opts.Type != "" {
		t, err := encryptType(opts.Type)
		if err != nil {
			return err
		}
		types = []saas.EncryptType{t}
	}
	var firstErr error
	for _, t := range types {
		pt, err := saas.DecryptField(k, v, t)
		if err == nil {
			fmt.Fprintln(opts.IO.Out, pt)
			if opts.Type == "" {
				fmt.Fprintf(opts.IO.ErrOut, "kgctl: decrypted with encryptType %s (%s)\n", t, sizeName(t))
			}
			return nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	switch {
	case errors.Is(firstErr, saas.ErrMalformedField):
		return cmdutil.FailedErr(fmt.Errorf("not an encrypted field (16 IV characters, then the Base64 of whole AES blocks): %w", firstErr))
	case len(types) == 2:
		return cmdutil.FailedErr(errors.New("does not decrypt with this Key as AES-256 or AES-128: wrong Key, or the value was changed"))
	}
	return cmdutil.FailedErr(fmt.Errorf("does not decrypt with this Key as %s: wrong Key, wrong size, or the value was changed", sizeName(types[0])))
}
