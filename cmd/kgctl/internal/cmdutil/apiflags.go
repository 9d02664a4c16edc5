package cmdutil

import (
	"errors"
	"strings"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery"
)

// APIFlags are the open-API credentials and where to send calls.
type APIFlags struct {
	AK       string
	SK       SecretFlags
	Token    SecretFlags
	Site     string
	Endpoint string
}

// Register adds the credential and site flags to cmd.
func (f *APIFlags) Register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.AK, "ak", "", "access key ID (default $HUAWEICLOUD_SDK_AK)")
	f.SK.Register(cmd, "sk", "SK", "HUAWEICLOUD_SDK_SK")
	cmd.Flags().StringVar(&f.Token.File, "security-token-file", "", "read the security token of temporary credentials from this file (default $HUAWEICLOUD_SDK_SECURITY_TOKEN)")
	f.Token.What = "security token"
	cmd.Flags().StringVar(&f.Site, "site", "china", "KooGallery site: china, intl or eu")
	cmd.Flags().StringVar(&f.Endpoint, "endpoint", "", "base URL instead of the site's, e.g. kgctl fake's (default $KOOGALLERY_ENDPOINT)")
}

// Credentials are an AK/SK and an optional security token.
type Credentials struct{ AK, SK, Token string }

// Credentials resolves the AK/SK and token from the flags and getenv.
func (f *APIFlags) Credentials(getenv func(string) string) (Credentials, error) {
	if f.SK.What == "" {
		f.SK.What = "SK"
	}
	f.Token.What = "security token"
	c := Credentials{AK: f.AK}
	if c.AK == "" {
		c.AK = getenv(koogallery.EnvAccessKey)
	}
	if c.AK == "" {
		return c, UsageErr("no access key: set %s or pass --ak", koogallery.EnvAccessKey)
	}
	sk, err := f.SK.Resolve(getenv, koogallery.EnvSecretKey)
	if err != nil {
		return c, err
	}
	c.SK = sk
	if f.Token.File != "" {
		if c.Token, err = f.Token.Resolve(getenv, ""); err != nil {
			return c, err
		}
	} else {
		c.Token = getenv(koogallery.EnvSecurityToken)
	}
	return c, nil
}

func (f *APIFlags) endpoint(getenv func(string) string) string {
	if f.Endpoint != "" {
		return f.Endpoint
	}
	return getenv(EnvEndpoint)
}

// BaseURL is --endpoint, $KOOGALLERY_ENDPOINT or the site's base URL.
func (f *APIFlags) BaseURL(getenv func(string) string) (string, error) {
	if e := f.endpoint(getenv); e != "" {
		return e, nil
	}
	s, err := f.ParseSite()
	return s.BaseURL(), err
}

// ParseSite reads --site.
func (f *APIFlags) ParseSite() (koogallery.Site, error) {
	switch strings.ToLower(f.Site) {
	case "", "china", "cn":
		return koogallery.SiteChina, nil
	case "intl", "international":
		return koogallery.SiteInternational, nil
	case "eu", "europe":
		return koogallery.SiteEurope, nil
	}
	return 0, UsageErr("--site %q: want china, intl or eu", f.Site)
}

// Client builds an open-API client from the flags, with extra options
// (an HTTP client in tests) last.
func (f *APIFlags) Client(getenv func(string) string, extra ...koogallery.Option) (*koogallery.Client, error) {
	c, err := f.Credentials(getenv)
	if err != nil {
		return nil, err
	}
	site, err := f.ParseSite()
	if err != nil {
		return nil, err
	}
	opts := []koogallery.Option{koogallery.WithCredentials(c.AK, c.SK), koogallery.WithSite(site), koogallery.WithUserAgent("kgctl")}
	if c.Token != "" {
		opts = append(opts, koogallery.WithSecurityToken(c.Token))
	}
	if endpoint := f.endpoint(getenv); endpoint != "" {
		opts = append(opts, koogallery.WithEndpoint(endpoint))
	}
	kg, err := koogallery.NewClient(append(opts, extra...)...)
	if err != nil {
		return nil, UsageErr("%w", err)
	}
	return kg, nil
}

// APIFailure maps an open-API error to an exit code: what KooGallery
// answered is a failure (1), no answer is a run error (3).
func APIFailure(err error) error {
	var ae *koogallery.APIError
	if errors.As(err, &ae) {
		msg := err.Error()
		if ae.RequestID != "" && !strings.Contains(msg, ae.RequestID) {
			msg += " (request " + ae.RequestID + ")"
		}
		if errors.Is(err, koogallery.ErrAuthentication) {
			msg += "\nkgctl call --dry-run shows what was signed; see kgctl call --help"
		}
		return FailedErr(errors.New(msg))
	}
	if errors.Is(err, koogallery.ErrInvalidRequest) {
		return UsageErr("%w", err)
	}
	return RunErr(err)
}
