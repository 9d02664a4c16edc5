package cmdutil

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// Environment variables kgctl reads besides the SDK's own
// (HUAWEICLOUD_SDK_AK, _SK, _SECURITY_TOKEN). The seller-server example reads
// the same names, so a probe against it needs no flags.
const (
	EnvAccessKey = "KOOGALLERY_ACCESS_KEY" // SaaS V2, License, orderNotify
	EnvKitKey    = "KOOGALLERY_KIT_KEY"    // joint-operation kit, V1 and V2
	EnvV1Key     = "KOOGALLERY_V1_KEY"     // SaaS V1, field encryption
	EnvEndpoint  = "KOOGALLERY_ENDPOINT"   // open-API base URL (kgctl fake)
	EnvStateDir  = "KGCTL_STATE_DIR"       // where call keeps its failure count
)

// SecretFlags are the ways a secret reaches a command: a file, a flag, or an
// environment variable, in that order of precedence.
type SecretFlags struct {
	Value, File string
	What        string // "key", "SK": used in messages, never the value
}

// Register adds --NAME and --NAME-file to cmd.
func (s *SecretFlags) Register(cmd *cobra.Command, name, what, envHelp string) {
	s.What = what
	cmd.Flags().StringVar(&s.Value, name, "", what+" (visible to other local users in the process list: prefer --"+name+"-file or "+envHelp+")")
	cmd.Flags().StringVar(&s.File, name+"-file", "", "read the "+what+" from this file (a trailing newline is dropped)")
}

// Resolve returns the secret, or an error that names where it looked and
// never the value. env is the variable to fall back on ("" for none),
// looked up with getenv (nil: os.Getenv).
func (s *SecretFlags) Resolve(getenv func(string) string, env string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if s.What == "" {
		s.What = "key"
	}
	switch {
	case s.File != "":
		b, err := os.ReadFile(s.File)
		if err != nil {
			return "", RunErr(fmt.Errorf("read %s file: %w", s.What, err))
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", UsageErr("%s file %s is empty", s.What, s.File)
		}
		return v, nil
	case s.Value != "":
		return s.Value, nil
	case env != "" && getenv(env) != "":
		return getenv(env), nil
	}
	if env == "" {
		return "", UsageErr("no %s: pass --%s-file or --%s", s.What, flagName(s.What), flagName(s.What))
	}
	return "", UsageErr("no %s: set %s, or pass --%s-file or --%s", s.What, env, flagName(s.What), flagName(s.What))
}

func flagName(what string) string {
	if what == "SK" {
		return "sk"
	}
	return "key"
}
