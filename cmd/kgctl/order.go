package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/order"
)

// apiFlags are the open-API credentials and where to send calls.
type apiFlags struct {
	ak       string
	sk       secretFlags
	token    secretFlags
	site     string
	endpoint string
}

func (f *apiFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.ak, "ak", "", "access key ID (default $HUAWEICLOUD_SDK_AK)")
	f.sk.register(cmd, "sk", "SK", "HUAWEICLOUD_SDK_SK")
	cmd.Flags().StringVar(&f.token.file, "security-token-file", "", "read the security token of temporary credentials from this file (default $HUAWEICLOUD_SDK_SECURITY_TOKEN)")
	f.token.what = "security token"
	cmd.Flags().StringVar(&f.site, "site", "china", "KooGallery site: china, intl or eu")
	cmd.Flags().StringVar(&f.endpoint, "endpoint", "", "base URL instead of the site's, e.g. kgctl fake's (default $KOOGALLERY_ENDPOINT)")
}

type credentials struct{ ak, sk, token string }

func (f *apiFlags) credentials() (credentials, error) {
	c := credentials{ak: f.ak}
	if c.ak == "" {
		c.ak = os.Getenv(koogallery.EnvAccessKey)
	}
	if c.ak == "" {
		return c, usageErr("no access key: set %s or pass --ak", koogallery.EnvAccessKey)
	}
	sk, err := f.sk.resolve(koogallery.EnvSecretKey)
	if err != nil {
		return c, err
	}
	c.sk = sk
	if f.token.file != "" {
		if c.token, err = f.token.resolve(""); err != nil {
			return c, err
		}
	} else {
		c.token = os.Getenv(koogallery.EnvSecurityToken)
	}
	return c, nil
}

func (f *apiFlags) baseURL() (string, error) {
	if f.endpoint != "" {
		return f.endpoint, nil
	}
	if e := os.Getenv(envEndpoint); e != "" {
		return e, nil
	}
	s, err := f.parseSite()
	return s.BaseURL(), err
}

func (f *apiFlags) parseSite() (koogallery.Site, error) {
	switch strings.ToLower(f.site) {
	case "", "china", "cn":
		return koogallery.SiteChina, nil
	case "intl", "international":
		return koogallery.SiteInternational, nil
	case "eu", "europe":
		return koogallery.SiteEurope, nil
	}
	return 0, usageErr("--site %q: want china, intl or eu", f.site)
}

func (f *apiFlags) client() (*koogallery.Client, error) {
	c, err := f.credentials()
	if err != nil {
		return nil, err
	}
	site, err := f.parseSite()
	if err != nil {
		return nil, err
	}
	opts := []koogallery.Option{koogallery.WithCredentials(c.ak, c.sk), koogallery.WithSite(site), koogallery.WithUserAgent("kgctl")}
	if c.token != "" {
		opts = append(opts, koogallery.WithSecurityToken(c.token))
	}
	endpoint := f.endpoint
	if endpoint == "" {
		endpoint = os.Getenv(envEndpoint)
	}
	if endpoint != "" {
		opts = append(opts, koogallery.WithEndpoint(endpoint))
	}
	kg, err := koogallery.NewClient(opts...)
	if err != nil {
		return nil, usageErr("%w", err)
	}
	return kg, nil
}

func newOrderCmd() *cobra.Command {
	var (
		api    apiFlags
		line   string
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "order ORDER_ID",
		Short: "Query an order (QueryOrder) and print it",
		Long: `order calls the query-order open API (GET /api/mkp-openapi-public/global/v1/order/query), signed
with your AK/SK, and prints the order as a summary, or as JSON with --json. The documented mock
orders (MOCKPERIODYEARNEW, MOCKONETIMENEW, MOCKONDEMAND, ...) work on the real service and on
kgctl fake.

The AK/SK come from HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (or --ak with --sk-file), a
security token from HUAWEICLOUD_SDK_SECURITY_TOKEN.`,
		Example: `  kgctl order MOCKPERIODYEARNEW
  kgctl order CS2611270001ABCDE --line CS2611270001ABCDE-000001 --json
  KOOGALLERY_ENDPOINT=http://127.0.0.1:8800/koogallerytest kgctl order MOCKONDEMAND   # against kgctl fake`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("order takes one ORDER_ID")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			kg, err := api.client()
			if err != nil {
				return err
			}
			var opts []order.QueryOption
			if line != "" {
				opts = append(opts, order.WithOrderLineID(line))
			}
			o, err := order.NewClient(kg).QueryOrder(cmd.Context(), args[0], opts...)
			if err != nil {
				return apiFailure(err)
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), o); err != nil {
					return runErr(err)
				}
				return nil
			}
			printOrder(cmd.OutOrStdout(), o)
			return nil
		},
	}
	api.register(cmd)
	cmd.Flags().StringVar(&line, "line", "", "only this order line")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the order as JSON")
	return cmd
}

// apiFailure maps an open-API error to an exit code: what KooGallery
// answered is a failure (1), no answer is a run error (3).
func apiFailure(err error) error {
	var ae *koogallery.APIError
	if errors.As(err, &ae) {
		msg := err.Error()
		if ae.RequestID != "" && !strings.Contains(msg, ae.RequestID) {
			msg += " (request " + ae.RequestID + ")"
		}
		if errors.Is(err, koogallery.ErrAuthentication) {
			msg += "\nkgctl call --dry-run shows what was signed; see kgctl call --help"
		}
		return &exitError{Code: exitFailed, Err: errors.New(msg)}
	}
	if errors.Is(err, koogallery.ErrInvalidRequest) {
		return usageErr("%w", err)
	}
	return runErr(err)
}

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

func printOrder(w io.Writer, o *order.Order) {
	fmt.Fprintf(w, "Order %s  type %s  created %s\n", o.OrderID, o.OrderType, fmtTime(o.CreateTime))
	if b := o.BuyerInfo; b != nil {
		fmt.Fprintf(w, "  buyer     customer %s", b.CustomerID)
		for _, kv := range [][2]string{{"name", b.CustomerName}, {"real name", b.CustomerRealName}, {"user", b.UserName}, {"phone", b.MobilePhone}, {"email", b.Email}} {
			if kv[1] != "" {
				fmt.Fprintf(w, ", %s %s", kv[0], kv[1])
			}
		}
		fmt.Fprintln(w)
	}
	printParams(w, "  ", o.ExtendParams)
	for _, l := range o.OrderLines {
		fmt.Fprintf(w, "  line %s  %s", l.OrderLineID, l.ChargingMode)
		if l.PeriodType != "" {
			fmt.Fprintf(w, " %d %s", l.PeriodNumber, l.PeriodType)
		}
		fmt.Fprintf(w, "  expires %s", fmtTime(l.ExpireTime))
		if l.Currency != "" {
			fmt.Fprintf(w, "  amount %s (after discount %s)", l.Currency, l.CurrencyAfterDiscount)
		}
		fmt.Fprintln(w)
		for _, p := range l.ProductInfo {
			fmt.Fprintf(w, "    product %s  sku %s", p.ProductID, p.SKUCode)
			if p.LinearValue != 0 {
				fmt.Fprintf(w, "  linear %d", p.LinearValue)
			}
			if p.ProductName != "" {
				fmt.Fprintf(w, "  %s", p.ProductName)
			}
			fmt.Fprintln(w)
		}
		printParams(w, "    ", l.ExtendParams)
	}
}

func printParams(w io.Writer, indent string, ps []order.ExtendParam) {
	if len(ps) == 0 {
		return
	}
	fmt.Fprintf(w, "%sextend   ", indent)
	for _, p := range ps {
		fmt.Fprintf(w, " %s=%s", p.Name, p.Value)
	}
	fmt.Fprintln(w)
}
