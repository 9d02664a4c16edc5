package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/saas"
)

// encryptType reads --type: 1 or aes256 (the default), 2 or aes128.
func encryptType(s string) (saas.EncryptType, error) {
	switch strings.ToLower(s) {
	case "", "1", "aes256", "aes-256":
		return saas.AES256, nil
	case "2", "aes128", "aes-128":
		return saas.AES128, nil
	}
	return "", usageErr("--type %q: want 1 (AES-256) or 2 (AES-128)", s)
}

// argOrStdin is the single argument, or a line of standard input for "-"
// or no argument, so that a value need not sit in the shell history.
func argOrStdin(cmd *cobra.Command, args []string) (string, error) {
	if len(args) == 1 && args[0] != "-" {
		return args[0], nil
	}
	line, err := bufio.NewReader(io.LimitReader(cmd.InOrStdin(), 1<<20)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", runErr(fmt.Errorf("read standard input: %w", err))
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func newEncryptCmd() *cobra.Command {
	var key secretFlags
	var typ string
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
			t, err := encryptType(typ)
			if err != nil {
				return err
			}
			k, err := key.resolve(envV1Key)
			if err != nil {
				return err
			}
			pt, err := argOrStdin(cmd, args)
			if err != nil {
				return err
			}
			out, err := saas.EncryptField(k, pt, t)
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			fmt.Fprintln(cmd.OutOrStdout(), out)
			if len(out) > 128 {
				fmt.Fprintf(cmd.ErrOrStderr(), "kgctl: warning: %d characters; KooGallery accepts at most 128 for userName and password\n", len(out))
			}
			return nil
		},
	}
	key.register(cmd, "key", "key", envV1Key)
	cmd.Flags().StringVar(&typ, "type", "1", "encryptType: 1 (AES-256) or 2 (AES-128)")
	return cmd
}

func newDecryptCmd() *cobra.Command {
	var key secretFlags
	var typ string
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
			k, err := key.resolve(envV1Key)
			if err != nil {
				return err
			}
			v, err := argOrStdin(cmd, args)
			if err != nil {
				return err
			}
			types := []saas.EncryptType{saas.AES256, saas.AES128}
			if typ != "" {
				t, err := encryptType(typ)
				if err != nil {
					return err
				}
				types = []saas.EncryptType{t}
			}
			var firstErr error
			for _, t := range types {
				pt, err := saas.DecryptField(k, v, t)
				if err == nil {
					fmt.Fprintln(cmd.OutOrStdout(), pt)
					if typ == "" {
						fmt.Fprintf(cmd.ErrOrStderr(), "kgctl: decrypted with encryptType %s (%s)\n", t, sizeName(t))
					}
					return nil
				}
				if firstErr == nil {
					firstErr = err
				}
			}
			switch {
			case errors.Is(firstErr, saas.ErrMalformedField):
				return &exitError{code: exitFailed, err: fmt.Errorf("not an encrypted field (16 IV characters, then the Base64 of whole AES blocks): %w", firstErr)}
			case len(types) == 2:
				return &exitError{code: exitFailed, err: errors.New("does not decrypt with this Key as AES-256 or AES-128: wrong Key, or the value was changed")}
			}
			return &exitError{code: exitFailed, err: fmt.Errorf("does not decrypt with this Key as %s: wrong Key, wrong size, or the value was changed", sizeName(types[0]))}
		},
	}
	key.register(cmd, "key", "key", envV1Key)
	cmd.Flags().StringVar(&typ, "type", "", "encryptType: 1 (AES-256) or 2 (AES-128); default: try both")
	return cmd
}

func sizeName(t saas.EncryptType) string {
	if t == saas.AES128 {
		return "AES-128"
	}
	return "AES-256"
}
