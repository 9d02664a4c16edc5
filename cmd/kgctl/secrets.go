package main

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
	envAccessKey = "KOOGALLERY_ACCESS_KEY" // SaaS V2, License, orderNotify
	envKitKey    = "KOOGALLERY_KIT_KEY"    // joint-operation kit, V1 and V2
	envV1Key     = "KOOGALLERY_V1_KEY"     // SaaS V1, field encryption
	envEndpoint  = "KOOGALLERY_ENDPOINT"   // open-API base URL (kgctl fake)
	envStateDir  = "KGCTL_STATE_DIR"       // where call keeps its failure count
)

// secretFlags are the ways a secret reaches a command: a file, a flag, or an
// environment variable, in that order of precedence.
type secretFlags struct {
	value, file string
	env         string // the environment variable, "" to decide later
	what        string // "key", "SK": used in messages, never the value
}

func (s *secretFlags) register(cmd *cobra.Command, name, what, envHelp string) {
	s.what = what
	cmd.Flags().StringVar(&s.value, name, "", what+" (visible to other local users in the process list: prefer --"+name+"-file or "+envHelp+")")
	cmd.Flags().StringVar(&s.file, name+"-file", "", "read the "+what+" from this file (a trailing newline is dropped)")
}

// resolve returns the secret, or an error that names where it looked and
// never the value.
func (s *secretFlags) resolve(env string) (string, error) {
	switch {
	case s.file != "":
		b, err := os.ReadFile(s.file)
		if err != nil {
			return "", runErr(fmt.Errorf("read %s file: %w", s.what, err))
		}
		v := strings.TrimRight(string(b), "\r\n")
		if v == "" {
			return "", usageErr("%s file %s is empty", s.what, s.file)
		}
		return v, nil
	case s.value != "":
		return s.value, nil
	case env != "" && os.Getenv(env) != "":
		return os.Getenv(env), nil
	}
	if env == "" {
		return "", usageErr("no %s: pass --%s-file or --%s", s.what, flagName(s.what), flagName(s.what))
	}
	return "", usageErr("no %s: set %s, or pass --%s-file or --%s", s.what, env, flagName(s.what), flagName(s.what))
}

func flagName(what string) string {
	if what == "SK" {
		return "sk"
	}
	return "key"
}
