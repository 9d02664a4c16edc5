// Package call holds kgctl call: sign an open-API request with AK/SK and
// send it, print what would be signed, or explain why the gateway refused
// the signature.
package call

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/auth"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
)

// CallOptions are kgctl call's inputs.
type CallOptions struct {
	IO         *cmdutil.IOStreams
	Getenv     func(string) string
	Now        func() time.Time
	HTTPClient *http.Client // nil: one that waits Timeout and follows no redirect

	API     cmdutil.APIFlags
	Method  string
	Data    string
	Headers []string
	DryRun  bool
	Force   bool
	Timeout time.Duration
	URL     string
}

// NewCmdCall returns kgctl call; runF replaces the run function in tests
// (nil: callRun).
func NewCmdCall(f *cmdutil.Factory, runF func(*CallOptions) error) *cobra.Command {
	opts := &CallOptions{IO: f.IOStreams, Getenv: f.Getenv, Now: f.Now}
	cmd := &cobra.Command{
		Use:   "call [-X METHOD] [-d BODY|@file] [-H 'K: V'] URL",
		Short: "Sign an open-API request with AK/SK and send it, or show what would be signed",
		Long: `call signs a request with the SDK's AK/SK signer (SDK-HMAC-SHA256) and sends it, printing the status,
headers and body. URL is absolute, or a path on the site's host (--site, --endpoint or
KOOGALLERY_ENDPOINT). A body (-d) is sent as application/json unless -H sets a Content-Type.

--dry-run sends nothing: it prints the canonical request, the string to sign, the Authorization
header and a ready curl command. The secret key never appears; a security token is referred to
as $HUAWEICLOUD_SDK_SECURITY_TOKEN. The signature in the curl command can be replayed for 15
minutes: do not paste it where others can read it.

When the gateway refuses the signature (APIGW.0301), call explains why: it compares the
canonical request the gateway echoes (when it does) with its own, line by line, and names the
likely cause — clock skew (X-Sdk-Date against the gateway's Date), a signed header a proxy
changed, an encoding difference in the path or query, a body changed in transit, or, when both
agree, a wrong secret key. Five signature failures in a row lock the AK for five minutes: call
counts consecutive failures per AK (in $KGCTL_STATE_DIR, default the user cache directory) and
refuses to send the fifth within five minutes of the fourth (exit 4) unless --force.

The AK/SK come from HUAWEICLOUD_SDK_AK and HUAWEICLOUD_SDK_SK (or --ak with --sk-file), a
security token from HUAWEICLOUD_SDK_SECURITY_TOKEN.`,
		Example: `  kgctl call 'https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/order/query?orderId=MOCKPERIODYEARNEW'
  kgctl call --dry-run '/api/mkp-openapi-public/global/v1/order/query?orderId=MOCKPERIODYEARNEW'
  kgctl call -X POST -d @usage.json -H 'X-Stage: RELEASE' /api/mkp-openapi-public/global/v1/isv/usage-data`,
		Args: cmdutil.ExactArgs(1, "call takes one URL"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.URL = args[0]
			if runF != nil {
				return runF(opts)
			}
			return callRun(opts)
		},
	}
	opts.API.Register(cmd)
	cmd.Flags().StringVarP(&opts.Method, "request", "X", "", "HTTP method (default GET, or POST with -d)")
	cmd.Flags().StringVarP(&opts.Data, "data", "d", "", "request body, or @file to read it from a file")
	cmd.Flags().StringArrayVarP(&opts.Headers, "header", "H", nil, "extra header 'Name: value', signed unless a proxy may rewrite it (repeatable)")
	cmd.Flags().BoolVar(&opts.DryRun, "dry-run", false, "print the canonical request, string to sign, Authorization and a curl command; send nothing")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "send even after four signature failures in a row (the fifth locks the AK for five minutes)")
	cmd.Flags().DurationVar(&opts.Timeout, "timeout", 30*time.Second, "how long to wait for the answer")
	return cmd
}

func callRun(opts *CallOptions) error {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	req, body, err := buildRequest(opts)
	if err != nil {
		return err
	}
	creds, err := opts.API.Credentials(opts.Getenv)
	if err != nil {
		return err
	}
	dbg, err := sign(req, creds)
	if err != nil {
		return err
	}
	if opts.DryRun {
		printDryRun(opts.IO.Out, req, dbg, opts.Data, body, creds.Token != "")
		return nil
	}
	if err := checkTransport(req.URL); err != nil {
		return err
	}
	return sendGuarded(opts, req, dbg, creds.AK)
}

// sign signs req with the credentials, and every extra header a proxy is
// not expected to rewrite; it returns what was signed.
func sign(req *http.Request, creds cmdutil.Credentials) (auth.Debug, error) {
	var dbg auth.Debug
	opts := []auth.SignerOption{auth.WithDebug(func(d auth.Debug) { dbg = d })}
	if creds.Token != "" {
		opts = append(opts, auth.WithSecurityToken(creds.Token))
	}
	for name := range req.Header {
		switch strings.ToLower(name) {
		case "content-type", "host", "user-agent", "content-length", "accept-encoding", "connection":
			// Signed by default, or rewritten by proxies and the
			// transport: never signed as extras.
		default:
			opts = append(opts, auth.WithSignedHeaders(name))
		}
	}
	signer, err := auth.NewSigner(creds.AK, creds.SK, opts...)
	if err != nil {
		return dbg, cmdutil.UsageErr("%w", err)
	}
	if err := signer.Sign(req); err != nil {
		return dbg, cmdutil.UsageErr("%w", err)
	}
	return dbg, nil
}

// sendGuarded sends a signed request unless the AK is one failure from a
// lock-out, prints the answer, and on a signature failure explains it.
func sendGuarded(opts *CallOptions, req *http.Request, dbg auth.Debug, ak string) error {
	guard := newLockGuard(ak, opts.Getenv)
	if err := guard.before(opts.Now()); err != nil && !opts.Force {
		return err
	}
	resp, respBody, err := send(opts.HTTPClient, req, opts.Timeout)
	if err != nil {
		return cmdutil.RunErr(err)
	}
	printResponse(opts.IO.Out, resp, respBody)
	code, msg := gatewayCode(respBody)
	if isSignatureFailure(resp.StatusCode, code) {
		guard.failed(opts.Now(), msg)
		d := diagnose(req, dbg, resp, msg, opts.Now())
		fmt.Fprintln(opts.IO.ErrOut)
		fmt.Fprint(opts.IO.ErrOut, d)
		fmt.Fprint(opts.IO.ErrOut, guard.status(opts.Now()))
		return cmdutil.ErrFailed
	}
	guard.succeeded()
	if resp.StatusCode >= 300 || (code != "" && !successCode(code)) {
		return cmdutil.ErrFailed
	}
	return nil
}
