package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/auth"
)

func newCallCmd() *cobra.Command {
	var (
		api     apiFlags
		method  string
		data    string
		headers []string
		dryRun  bool
		force   bool
		timeout time.Duration
	)
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
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageErr("call takes one URL")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			req, body, err := buildRequest(&api, strings.ToUpper(method), data, headers, args[0])
			if err != nil {
				return err
			}
			creds, err := api.credentials()
			if err != nil {
				return err
			}
			var dbg auth.Debug
			opts := []auth.SignerOption{auth.WithDebug(func(d auth.Debug) { dbg = d })}
			if creds.token != "" {
				opts = append(opts, auth.WithSecurityToken(creds.token))
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
			signer, err := auth.NewSigner(creds.ak, creds.sk, opts...)
			if err != nil {
				return usageErr("%w", err)
			}
			if err := signer.Sign(req); err != nil {
				return usageErr("%w", err)
			}
			w := cmd.OutOrStdout()
			if dryRun {
				printDryRun(w, req, dbg, data, body, creds.token != "")
				return nil
			}
			if err := checkTransport(req.URL); err != nil {
				return err
			}
			guard := newLockGuard(creds.ak)
			if err := guard.before(time.Now()); err != nil && !force {
				return err
			}
			resp, respBody, err := send(req, timeout)
			if err != nil {
				return runErr(err)
			}
			printResponse(w, resp, respBody)
			code, msg := gatewayCode(respBody)
			if isSignatureFailure(resp.StatusCode, code) {
				guard.failed(time.Now(), msg)
				d := diagnose(req, dbg, resp, msg, time.Now())
				fmt.Fprintln(cmd.ErrOrStderr())
				fmt.Fprint(cmd.ErrOrStderr(), d)
				fmt.Fprint(cmd.ErrOrStderr(), guard.status(time.Now()))
				return errFailed
			}
			guard.succeeded()
			if resp.StatusCode >= 300 || (code != "" && !successCode(code)) {
				return errFailed
			}
			return nil
		},
	}
	api.register(cmd)
	cmd.Flags().StringVarP(&method, "request", "X", "", "HTTP method (default GET, or POST with -d)")
	cmd.Flags().StringVarP(&data, "data", "d", "", "request body, or @file to read it from a file")
	cmd.Flags().StringArrayVarP(&headers, "header", "H", nil, "extra header 'Name: value', signed unless a proxy may rewrite it (repeatable)")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "print the canonical request, string to sign, Authorization and a curl command; send nothing")
	cmd.Flags().BoolVar(&force, "force", false, "send even after four signature failures in a row (the fifth locks the AK for five minutes)")
	cmd.Flags().DurationVar(&timeout, "timeout", 30*time.Second, "how long to wait for the answer")
	return cmd
}

func successCode(code string) bool {
	return code == "MKT.0000" || code == "CBC.0000" || code == "92020000"
}

func buildRequest(api *apiFlags, method, data string, headers []string, rawURL string) (*http.Request, []byte, error) {
	target := rawURL
	if strings.HasPrefix(rawURL, "/") {
		base, err := api.baseURL()
		if err != nil {
			return nil, nil, err
		}
		target = strings.TrimSuffix(base, "/") + rawURL
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, nil, usageErr("URL must be absolute (https://host/path) or a path starting with /")
	}
	var body []byte
	if data != "" {
		if body, err = readArg(data); err != nil {
			return nil, nil, err
		}
	}
	if method == "" {
		method = http.MethodGet
		if data != "" {
			method = http.MethodPost
		}
	}
	req, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, nil, usageErr("%w", err)
	}
	if body == nil {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	}
	for _, h := range headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, nil, usageErr("-H %q: want 'Name: value'", h)
		}
		k = strings.TrimSpace(k)
		if c := strings.ToLower(k); c == "authorization" || c == "x-sdk-date" || c == "x-security-token" {
			return nil, nil, usageErr("-H %s: kgctl sets this header when signing", k)
		}
		req.Header.Add(k, strings.TrimSpace(v))
	}
	if body != nil && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, body, nil
}

// checkTransport refuses to send a signature in clear to a host other than
// loopback, as the SDK's client does.
func checkTransport(u *url.URL) error {
	if u.Scheme == "https" {
		return nil
	}
	host := u.Hostname()
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return usageErr("refusing to send a signed request over plain http to %s: anyone on the way could replay it for 15 minutes; use https", host)
}

func send(req *http.Request, timeout time.Duration) (*http.Response, []byte, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	c := &http.Client{Transport: tr, Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = fmt.Errorf("%s %s://%s%s: %w", req.Method, req.URL.Scheme, req.URL.Host, req.URL.Path, ue.Err)
		}
		return nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 10<<20))
	if err != nil {
		return nil, nil, fmt.Errorf("read answer: %w", err)
	}
	return resp, b, nil
}

func printResponse(w io.Writer, resp *http.Response, body []byte) {
	fmt.Fprintf(w, "%s %s\n", resp.Proto, resp.Status)
	printHeader(w, "", resp.Header)
	fmt.Fprintln(w)
	var buf bytes.Buffer
	if json.Indent(&buf, body, "", "  ") == nil {
		body = buf.Bytes()
	}
	w.Write(body)
	if len(body) > 0 && body[len(body)-1] != '\n' {
		fmt.Fprintln(w)
	}
}

// gatewayCode reads error_code/error_msg (or resultCode/resultMsg).
func gatewayCode(body []byte) (code, msg string) {
	var e struct {
		ErrorCode  string `json:"error_code"`
		ErrorMsg   string `json:"error_msg"`
		ResultCode string `json:"resultCode"`
		ResultMsg  string `json:"resultMsg"`
	}
	if json.Unmarshal(body, &e) != nil {
		return "", ""
	}
	if e.ErrorCode != "" {
		return e.ErrorCode, e.ErrorMsg
	}
	return e.ResultCode, e.ResultMsg
}

func isSignatureFailure(status int, code string) bool {
	return strings.HasSuffix(code, ".0301") || (status == http.StatusUnauthorized && strings.HasSuffix(code, ".0303"))
}

func printDryRun(w io.Writer, req *http.Request, d auth.Debug, data string, body []byte, hasToken bool) {
	fmt.Fprintf(w, "Canonical request:\n%s\n\n", d.CanonicalRequest)
	fmt.Fprintf(w, "The same in the gateway's one-line form ('|' for each newline), to compare with an APIGW.0301 echo:\n%s\n\n", d.String())
	fmt.Fprintf(w, "String to sign:\n%s\n\n", d.StringToSign)
	fmt.Fprintf(w, "Authorization: %s\n\n", req.Header.Get(auth.HeaderAuthorization))
	fmt.Fprintf(w, "curl (valid for 15 minutes from X-Sdk-Date %s):\n", req.Header.Get(auth.HeaderDate))
	var b strings.Builder
	b.WriteString("curl -g")
	if req.Method != http.MethodGet || body != nil {
		b.WriteString(" -X " + req.Method)
	}
	b.WriteString(" " + shellQuote(req.URL.String()))
	names := make([]string, 0, len(req.Header))
	for k := range req.Header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		for _, v := range req.Header[k] {
			if strings.EqualFold(k, auth.HeaderSecurityToken) {
				b.WriteString(` -H "X-Security-Token: $HUAWEICLOUD_SDK_SECURITY_TOKEN"`)
				continue
			}
			b.WriteString(" -H " + shellQuote(k+": "+v))
		}
	}
	if body != nil {
		if name, ok := strings.CutPrefix(data, "@"); ok {
			b.WriteString(" --data-binary " + shellQuote("@"+name))
		} else {
			b.WriteString(" --data-binary " + shellQuote(string(body)))
		}
	}
	fmt.Fprintln(w, b.String())
	if hasToken {
		fmt.Fprintln(w, "\n(The security token is signed; the curl command reads it from $HUAWEICLOUD_SDK_SECURITY_TOKEN.)")
	}
}

func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// diagnose explains an APIGW.0301: it compares the canonical request the
// gateway echoed, if any, with the one signed.
func diagnose(req *http.Request, d auth.Debug, resp *http.Response, msg string, now time.Time) string {
	var b strings.Builder
	b.WriteString("The gateway refused the signature (" + msg + ").\n")
	lower := strings.ToLower(msg)
	signedAt, _ := time.Parse(auth.DateLayout, req.Header.Get(auth.HeaderDate))
	skew := clockSkew(resp, signedAt)
	switch {
	case strings.Contains(lower, "reach the limit") || strings.Contains(lower, "forbidden"):
		b.WriteString("Likely cause: the AK is locked after five signature failures in a row. Wait five minutes, fix the cause, and send once.\n")
		return b.String()
	case strings.Contains(lower, "ak not exist") || strings.Contains(lower, "secretkey failed"):
		b.WriteString("Likely cause: the gateway does not know this access key: a typo, a deleted key, or the wrong site (--site).\n")
		return b.String()
	case strings.Contains(lower, "expired"):
		fmt.Fprintf(&b, "Likely cause: clock skew. X-Sdk-Date was %s", req.Header.Get(auth.HeaderDate))
		if skew != 0 {
			fmt.Fprintf(&b, "; the gateway's clock reads %v %s", abs(skew).Round(time.Second), aheadBehind(skew))
		}
		b.WriteString(". The gateway allows 15 minutes: synchronise this machine's clock (NTP).\n")
		return b.String()
	}
	echo, found := echoedCanonical(msg)
	if !found {
		b.WriteString("The gateway did not echo its canonical request, so kgctl cannot diff it. What was signed:\n\n")
		b.WriteString(indent(d.CanonicalRequest))
		b.WriteString("\n\n")
		if abs(skew) > 5*time.Minute {
			fmt.Fprintf(&b, "The gateway's clock reads %v %s: check this machine's clock.\n", abs(skew).Round(time.Second), aheadBehind(skew))
		}
		b.WriteString("Likely causes, most common first: a wrong secret key (HUAWEICLOUD_SDK_SK); a proxy that changed a signed header\n" +
			"(" + strings.ReplaceAll(d.SignedHeaders, ";", ", ") + ") or the body; a path or query encoded differently on the way.\n" +
			"kgctl call --dry-run prints the canonical request and a curl command to try the same request from another machine.\n")
		return b.String()
	}
	ours := strings.Split(d.CanonicalRequest, "\n")
	theirs := strings.Split(echo, "|")
	b.WriteString("\nCanonical request, line by line (- signed by kgctl, + computed by the gateway):\n")
	diffs := lineDiff(&b, ours, theirs)
	b.WriteString("\n")
	b.WriteString(cause(ours, theirs, diffs, skew))
	return b.String()
}

// echoedCanonical finds the "canonicalRequest:" echo in a gateway message.
func echoedCanonical(msg string) (string, bool) {
	i := strings.Index(strings.ToLower(msg), "canonicalrequest:")
	if i < 0 {
		return "", false
	}
	s := strings.TrimSpace(msg[i+len("canonicalrequest:"):])
	s = strings.Trim(s, `"`)
	return s, s != ""
}

// lineDiff writes both canonical requests aligned by line and returns the
// indexes of the lines that differ.
func lineDiff(b *strings.Builder, ours, theirs []string) []int {
	var diffs []int
	n := max(len(ours), len(theirs))
	for i := 0; i < n; i++ {
		var o, t string
		if i < len(ours) {
			o = ours[i]
		}
		if i < len(theirs) {
			t = theirs[i]
		}
		if o == t && i < len(ours) && i < len(theirs) {
			fmt.Fprintf(b, "    %s\n", o)
			continue
		}
		diffs = append(diffs, i)
		if i < len(ours) {
			fmt.Fprintf(b, "  - %s\n", o)
		}
		if i < len(theirs) {
			fmt.Fprintf(b, "  + %s\n", t)
		}
	}
	return diffs
}

// cause names the likely cause from which lines of the canonical request
// differ: 0 method, 1 URI, 2 query, then the header lines, an empty line,
// the signed-header list and the payload hash.
func cause(ours, theirs []string, diffs []int, skew time.Duration) string {
	if len(diffs) == 0 {
		return "Likely cause: a wrong secret key. The gateway computed the same canonical request, so the difference is the key the\n" +
			"HMAC was computed with: check HUAWEICLOUD_SDK_SK (and that it belongs to this AK).\n"
	}
	var causes []string
	for _, i := range diffs {
		var o, t string
		if i < len(ours) {
			o = ours[i]
		}
		if i < len(theirs) {
			t = theirs[i]
		}
		name, _, _ := strings.Cut(o, ":")
		tname, _, _ := strings.Cut(t, ":")
		switch {
		case i == 0:
			causes = append(causes, "the method changed on the way (a proxy or redirect turned "+o+" into "+t+")")
		case i == 1 || i == 2:
			what := "path"
			if i == 2 {
				what = "query"
			}
			if decodedEqual(o, t, i == 2) {
				causes = append(causes, "an encoding difference in the "+what+": both decode to the same text but are escaped differently; send the canonical form (auth.EncodeQuery), with %20 for a space and %2B for '+'")
			} else {
				causes = append(causes, "the "+what+" changed on the way (a proxy or gateway rewrote it, or the URL was re-encoded)")
			}
		case name == "x-sdk-date" || tname == "x-sdk-date":
			c := "clock skew: the gateway read another X-Sdk-Date"
			if skew != 0 {
				c += fmt.Sprintf(" (its clock reads %v %s)", abs(skew).Round(time.Second), aheadBehind(skew))
			}
			causes = append(causes, c)
		case name == "host" || tname == "host":
			causes = append(causes, "the Host header was changed by a proxy or load balancer (or the request went to another host than signed)")
		case i == len(ours)-1 && i == len(theirs)-1:
			causes = append(causes, "the body changed on the way (a proxy re-encoded or compressed it, or a newline was added): its SHA-256 differs")
		case strings.Contains(o, ";") || strings.Contains(t, ";"):
			causes = append(causes, "the gateway signs another header set ("+t+" instead of "+o+"): a header was dropped on the way (names with '_' are dropped by many proxies)")
		case o != "" || t != "":
			hdr := name
			if hdr == "" {
				hdr = tname
			}
			causes = append(causes, "a header changed by a proxy: "+hdr+" (sign fewer headers, or keep proxies from rewriting it)")
		}
	}
	seen := map[string]bool{}
	var b strings.Builder
	b.WriteString("Likely cause:\n")
	for _, c := range causes {
		if !seen[c] {
			seen[c] = true
			b.WriteString("  - " + c + "\n")
		}
	}
	return b.String()
}

func decodedEqual(a, b string, query bool) bool {
	if query {
		qa, err1 := url.ParseQuery(a)
		qb, err2 := url.ParseQuery(b)
		if err1 != nil || err2 != nil {
			return false
		}
		return auth.EncodeQuery(qa) == auth.EncodeQuery(qb)
	}
	da, err1 := url.PathUnescape(a)
	db, err2 := url.PathUnescape(b)
	return err1 == nil && err2 == nil && strings.TrimSuffix(da, "/") == strings.TrimSuffix(db, "/")
}

func clockSkew(resp *http.Response, signedAt time.Time) time.Duration {
	if signedAt.IsZero() {
		return 0
	}
	d, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return 0
	}
	return d.Sub(signedAt)
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

func aheadBehind(d time.Duration) string {
	if d > 0 {
		return "later than X-Sdk-Date (this machine's clock is behind)"
	}
	return "earlier than X-Sdk-Date (this machine's clock is ahead)"
}

func indent(s string) string {
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// lockGuard counts consecutive signature failures per AK across runs, so
// that kgctl stops before the fifth, which locks the AK for five minutes.
type lockGuard struct {
	path string
	id   string // a hash of the AK: the AK itself is not written down
}

type lockState struct {
	Failures int       `json:"failures"`
	Last     time.Time `json:"last"`
}

const (
	lockAfter  = 5
	lockWindow = 5 * time.Minute
)

func newLockGuard(ak string) *lockGuard {
	dir := os.Getenv(envStateDir)
	if dir == "" {
		if c, err := os.UserCacheDir(); err == nil {
			dir = filepath.Join(c, "kgctl")
		}
	}
	sum := sha256.Sum256([]byte(ak))
	g := &lockGuard{id: hex.EncodeToString(sum[:8])}
	if dir != "" {
		g.path = filepath.Join(dir, "signature-failures.json")
	}
	return g
}

func (g *lockGuard) load() map[string]lockState {
	m := map[string]lockState{}
	if g.path == "" {
		return m
	}
	if b, err := os.ReadFile(g.path); err == nil {
		_ = json.Unmarshal(b, &m)
	}
	return m
}

func (g *lockGuard) save(m map[string]lockState) {
	if g.path == "" {
		return
	}
	if err := os.MkdirAll(filepath.Dir(g.path), 0o700); err != nil {
		return
	}
	b, _ := json.Marshal(m)
	_ = os.WriteFile(g.path, b, 0o600)
}

func (g *lockGuard) current(now time.Time) lockState {
	s := g.load()[g.id]
	if now.Sub(s.Last) > lockWindow {
		return lockState{}
	}
	return s
}

func (g *lockGuard) before(now time.Time) error {
	s := g.current(now)
	if s.Failures < lockAfter-1 {
		return nil
	}
	until := s.Last.Add(lockWindow)
	if s.Failures >= lockAfter {
		return &exitError{Code: exitLockout, Err: fmt.Errorf("the AK is locked after %d signature failures in a row; wait until %s, fix the cause (kgctl call --dry-run), then send once",
			lockAfter, until.Local().Format("15:04:05"))}
	}
	return &exitError{Code: exitLockout, Err: fmt.Errorf("stopped: %d signature failures in a row for this AK; one more locks it for five minutes.\n"+
		"Fix the cause first (see the diagnosis of the last failure, kgctl call --dry-run), wait until %s, or pass --force",
		s.Failures, until.Local().Format("15:04:05"))}
}

func (g *lockGuard) failed(now time.Time, msg string) {
	m := g.load()
	s := g.current(now)
	s.Failures++
	if strings.Contains(strings.ToLower(msg), "reach the limit") {
		s.Failures = lockAfter
	}
	s.Last = now
	m[g.id] = s
	g.save(m)
}

func (g *lockGuard) succeeded() {
	m := g.load()
	if _, ok := m[g.id]; ok {
		delete(m, g.id)
		g.save(m)
	}
}

func (g *lockGuard) status(now time.Time) string {
	s := g.current(now)
	if s.Failures >= lockAfter {
		return "\nThe AK is locked for five minutes.\n"
	}
	left := lockAfter - s.Failures
	return fmt.Sprintf("\nSignature failure %d in a row for this AK: %d more lock it for five minutes; kgctl stops before the last one.\n", s.Failures, left)
}
