// Package callback holds kgctl callback: send one call exactly as
// KooGallery signs it to a seller's production interface and check the
// answer.
package callback

import (
	"context"
	"net/http"
	"time"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/exchange"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/family"
)

// CallbackOptions are kgctl callback's inputs.
type CallbackOptions struct {
	IO         *cmdutil.IOStreams
	Getenv     func(string) string
	Now        func() time.Time // the generated fields' clock
	Ctx        context.Context
	HTTPClient *http.Client // nil: see exchange.NewTarget

	Call     exchange.CallFlags
	Family   string
	Activity string
	Fields   []string // --field NAME=VALUE or NAME:=JSON
	Body     string   // the whole body, or @file
	Replay   bool
	Stale    bool
	Tamper   bool
	WrongKey bool
	Unsigned bool
}

// NewCmdCallback returns kgctl callback; runF replaces the run function in
// tests (nil: callbackRun).
func NewCmdCallback(f *cmdutil.Factory, runF func(*CallbackOptions) error) *cobra.Command {
	opts := &CallbackOptions{IO: f.IOStreams, Getenv: f.Getenv, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "callback FAMILY ACTIVITY --url URL",
		Short: "Send one correctly signed KooGallery callback and check the answer",
		Long: `callback sends one call exactly as KooGallery signs it to your production interface, prints the
answer and checks it the way KooGallery reads it: HTTP 200, a JSON result whose resultCode is one
the documentation lists for the activity, an instanceId for newInstance, and for V1 a Body-Sign
that verifies and appInfo credentials that decrypt.

Families and activities (the kit's are interface names):
  saas      newInstance queryInstance refreshInstance updateInstanceStatus upgradeInstance releaseInstance
  saas-v1   newInstance queryInstance refreshInstance expireInstance instanceStatus upgrade releaseInstance
  kit       tenantSync applicationSync authSync singleOrgSync allOrgSync   (POST <url>/produceAPI/v2/<name>)
  kit-v1    tenantSync applicationSync authSync singleOrgSync allOrgSync   (POST <url>/produceAPI/<name>)
  license   refreshLicenseCode updateLicenseCodeStatus releaseLicenseCode
  order     orderNotify

The call carries testFlag=1 and made-up IDs; --field NAME=VALUE sets or adds a member (a V1
parameter), --field 'NAME:=JSON' a JSON value (kit), and --body replaces the whole body (@file
reads it from a file; for saas-v1 it is a query string).

--replay sends the same signed call twice; --stale, --tamper, --wrong-key and --unsigned send a call
signed outside the freshness window, changed after signing, signed with another key, or not signed.
Each must be refused with 000001.

The key comes from --key-file, --key, or the family's variable: KOOGALLERY_ACCESS_KEY (saas,
license, order), KOOGALLERY_V1_KEY (saas-v1), KOOGALLERY_KIT_KEY (kit, kit-v1).`,
		Example: `  export KOOGALLERY_ACCESS_KEY=...   # 卖家中心 › 应用工具 › 密钥管理
  kgctl callback saas newInstance --url https://seller.example.com/isv/produce
  kgctl callback saas updateInstanceStatus --url https://seller.example.com/isv/produce --field instanceId=i-1 --field status=UNFREEZE
  kgctl callback order orderNotify --url https://seller.example.com/isv/order --replay
  kgctl callback kit tenantSync --url https://seller.example.com/isv/produce --key-file kit.key --field 'flag:=0'`,
		Args: cmdutil.ExactArgs(2, "callback takes FAMILY and ACTIVITY (families: %s)", family.Names()),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Ctx, opts.Family, opts.Activity = cmd.Context(), args[0], args[1]
			if runF != nil {
				return runF(opts)
			}
			return callbackRun(opts)
		},
	}
	opts.Call.Register(cmd)
	cmd.Flags().StringArrayVar(&opts.Fields, "field", nil, "set a member: NAME=VALUE, or NAME:=JSON (repeatable)")
	cmd.Flags().StringVar(&opts.Body, "body", "", "the whole body instead of the generated one (@file reads a file)")
	cmd.Flags().BoolVar(&opts.Replay, "replay", false, "send the same signed call twice; the second must be refused")
	cmd.Flags().BoolVar(&opts.Stale, "stale", false, "sign outside the freshness window (V2: 2 minutes old; V1: 25 hours)")
	cmd.Flags().BoolVar(&opts.Tamper, "tamper", false, "change the call after signing it")
	cmd.Flags().BoolVar(&opts.WrongKey, "wrong-key", false, "sign with a key that is not yours")
	cmd.Flags().BoolVar(&opts.Unsigned, "unsigned", false, "send the call without a signature")
	return cmd
}

func callbackRun(opts *CallbackOptions) error {
	fam, err := family.Lookup(opts.Family)
	if err != nil {
		return err
	}
	activity, err := fam.Activity(opts.Activity)
	if err != nil {
		return err
	}
	md, err := opts.mode()
	if err != nil {
		return err
	}
	t, err := opts.Call.Target(fam, opts.Getenv, opts.HTTPClient)
	if err != nil {
		return err
	}
	p, err := opts.prepare(t, activity, md)
	if err != nil {
		return err
	}
	ctx := opts.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	sent, checks := sendAndCheck(ctx, t, p, md, opts.Replay)
	return reportExchanges(opts.IO.Out, opts.Call.JSON, sent, checks)
}

// mode is how the call is to be signed, from the flags that exclude each
// other.
func (opts *CallbackOptions) mode() (exchange.Mode, error) {
	md := exchange.Genuine
	n := 0
	for _, f := range []struct {
		set bool
		m   exchange.Mode
	}{{opts.Stale, exchange.Stale}, {opts.Tamper, exchange.Tampered}, {opts.WrongKey, exchange.Forged}, {opts.Unsigned, exchange.Unsigned}} {
		if f.set {
			md = f.m
			n++
		}
	}
	if n > 1 || (n == 1 && opts.Replay) {
		return md, cmdutil.UsageErr("--replay, --stale, --tamper, --wrong-key and --unsigned exclude each other")
	}
	return md, nil
}

// prepare builds the call's body (generated, with --field applied, or
// --body) and signs it.
func (opts *CallbackOptions) prepare(t *exchange.Target, activity string, md exchange.Mode) (*exchange.Prepared, error) {
	var raw []byte
	if opts.Body != "" {
		var err error
		if raw, err = cmdutil.ReadArg(opts.Body); err != nil {
			return nil, err
		}
	}
	id := family.NewIDs()
	if activity == "orderNotify" {
		// The documented mock order: a handler that queries it gets one.
		id.OrderID, id.OrderLineID = "MOCKPERIODYEARNEW", "MOCKPERIODYEARNEW-000001"
	}
	now := time.Now
	if opts.Now != nil {
		now = opts.Now
	}
	m := family.Fields(t.Fam, activity, id, now())
	if activity == "applicationSync" {
		m["clientSecret"] = t.EncryptSecret("kgctl-client-secret")
	}
	for _, s := range opts.Fields {
		if err := family.SetField(m, s, t.Fam.Scheme.Kit()); err != nil {
			return nil, err
		}
	}
	return t.Prepare(activity, m, raw, md)
}

// sendAndCheck sends the call (twice for a replay) and checks the answers.
func sendAndCheck(ctx context.Context, t *exchange.Target, p *exchange.Prepared, md exchange.Mode, replay bool) ([]*exchange.Exchange, []exchange.Check) {
	first := p.Send(ctx)
	sent := []*exchange.Exchange{first}
	var checks []exchange.Check
	switch {
	case replay:
		second := p.Send(ctx)
		sent = append(sent, second)
		checks = append(checks, exchange.GenuineCheck(t, "answer", first))
		if t.Fam.Scheme.V1() {
			c := exchange.Result(t, "replayed call", second, []string{"000001", "000000"}, "")
			if c.Pass {
				c.Reason = "V1 has no nonce: an identical re-send may be answered from memory (the SDK answers it 000000 without running it again)"
			}
			checks = append(checks, c)
		} else {
			checks = append(checks, exchange.Result(t, "replayed call refused", second, []string{"000001"}, exchange.HintReplay))
		}
	case md == exchange.Genuine:
		checks = append(checks, exchange.GenuineCheck(t, "answer", first))
	default:
		checks = append(checks, exchange.Result(t, md.String()+" call refused", first, []string{"000001"}, exchange.RefusalHint(md)))
	}
	return sent, checks
}
