// Package crypt holds kgctl encrypt and kgctl decrypt: the SaaS V1 field
// encryption.
package crypt

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
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
	return "", cmdutil.UsageErr("--type %q: want 1 (AES-256) or 2 (AES-128)", s)
}

// Input is the value of the single argument, or a line of standard input
// for "-" or no argument, so that a value need not sit in the shell history.
type Input struct {
	Value     string
	FromStdin bool
}

func (in *Input) set(args []string) {
	if len(args) == 1 && args[0] != "-" {
		in.Value, in.FromStdin = args[0], false
		return
	}
	in.FromStdin = true
}

func (in *Input) read(r io.Reader) (string, error) {
	if !in.FromStdin {
		return in.Value, nil
	}
	line, err := bufio.NewReader(io.LimitReader(r, 1<<20)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", cmdutil.RunErr(fmt.Errorf("read standard input: %w", err))
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func sizeName(t saas.EncryptType) string {
	if t == saas.AES128 {
		return "AES-128"
	}
	return "AES-256"
}
