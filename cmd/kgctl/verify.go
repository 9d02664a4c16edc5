package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/isvkit/koogallery/saas/kit"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/license"
	"github.com/isvkit/koogallery/order"
	"github.com/isvkit/koogallery/saas"
)

// captured is a request as read from a capture.
type captured struct {
	Method string
	URL    *url.URL
	Header http.Header
	Body   []byte
}

// maxCapture bounds what verify reads.
const maxCapture = 4 << 20

// readCapture reads a request in HTTP/1.1 wire form (request line, headers,
// blank line, body; the HTTP version may be missing, LF line ends are fine)
// or as JSON {"method","url","headers","body"}.
func readCapture(r io.Reader) (*captured, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxCapture+1))
	if err != nil {
		return nil, runErr(fmt.Errorf("read the captured request: %w", err))
	}
	if len(data) > maxCapture {
		return nil, usageErr("the captured request is larger than %d MiB", maxCapture>>20)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, usageErr("no captured request on standard input (or --file)")
	}
	if trimmed[0] == '{' {
		return captureJSON(trimmed)
	}
	br := bufio.NewReader(bytes.NewReader(data))
	line, err := br.ReadString('\n')
	if err != nil && line == "" {
		return nil, usageErr("the capture has no request line")
	}
	parts := strings.Fields(line)
	if len(parts) < 2 {
		// Not quoted: the line may hold a URL with a password.
		return nil, usageErr("the first line must be METHOD URL [HTTP/1.1], not %d field(s)", len(parts))
	}
	tp := textproto.NewReader(br)
	mh, err := tp.ReadMIMEHeader()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, usageErr("reading the headers: %v", err)
	}
	body, _ := io.ReadAll(br)
	h := http.Header(mh)
	if cl := h.Get("Content-Length"); cl != "" {
		if n, err := strconv.Atoi(cl); err == nil && n >= 0 && n <= len(body) {
			body = body[:n]
		}
	}
	return newCaptured(parts[0], parts[1], h, body)
}

func captureJSON(b []byte) (*captured, error) {
	var c struct {
		Method  string          `json:"method"`
		URL     string          `json:"url"`
		Headers json.RawMessage `json:"headers"`
		Header  json.RawMessage `json:"header"`
		Body    json.RawMessage `json:"body"`
		// kgctl callback --json: the first request it sent.
		Exchanges []struct {
			Request json.RawMessage `json:"request"`
		} `json:"exchanges"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, usageErr("the JSON capture: %v", err)
	}
	if len(c.Exchanges) > 0 && c.URL == "" {
		return captureJSON(c.Exchanges[0].Request)
	}
	if len(c.Headers) == 0 {
		c.Headers = c.Header
	}
	h := http.Header{}
	if len(c.Headers) > 0 {
		var multi map[string][]string
		var single map[string]string
		switch {
		case json.Unmarshal(c.Headers, &single) == nil:
			for k, v := range single {
				h.Set(k, v)
			}
		case json.Unmarshal(c.Headers, &multi) == nil:
			for k, vs := range multi {
				for _, v := range vs {
					h.Add(k, v)
				}
			}
		default:
			return nil, usageErr(`the JSON capture: "headers" must map names to a string or a list of strings`)
		}
	}
	var body []byte
	if len(c.Body) > 0 {
		var s string
		if json.Unmarshal(c.Body, &s) == nil {
			body = []byte(s) // the body as text
		} else {
			body = c.Body // the body as a JSON value, bytes as written
		}
	}
	return newCaptured(c.Method, c.URL, h, body)
}

func newCaptured(method, target string, h http.Header, body []byte) (*captured, error) {
	u, err := url.Parse(target)
	if err != nil {
		// url.Parse's error quotes the URL, or the piece of it a
		// misplaced character cut off: it may hold a password.
		return nil, usageErr("the captured URL does not parse (%s)", urlProblem(err))
	}
	if u.Host == "" {
		u.Host = h.Get("Host")
		u.Scheme = "https"
	}
	if method == "" {
		method = http.MethodPost
	}
	return &captured{Method: strings.ToUpper(method), URL: u, Header: h, Body: body}, nil
}

// detectFamily says which family a captured call belongs to from where it
// carries its signature.
func detectFamily(c *captured) (*family, error) {
	q := c.URL.Query()
	name := ""
	switch {
	case q.Has("authToken"):
		name = "saas-v1"
	case c.Header.Get("authToken") != "":
		name = "kit-v1"
	case c.Header.Get("x-sign") != "":
		name = "kit"
	case q.Has("signature"):
		var a struct {
			Activity string `json:"activity"`
		}
		_ = json.Unmarshal(c.Body, &a)
		switch {
		case a.Activity == "orderNotify":
			name = "order"
		case strings.Contains(strings.ToLower(a.Activity), "license"):
			name = "license"
		default:
			name = "saas"
		}
	default:
		return nil, usageErr("cannot tell the family: no signature, x-sign or authToken; pass --family")
	}
	return lookupFamily(name)
}

func newVerifyCmd() *cobra.Command {
	var (
		key      secretFlags
		famName  string
		file     string
		at       string
		skew     time.Duration
		v1window time.Duration
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "verify [--family F] < captured-request",
		Short: "Say whether a captured callback verifies, and which part fails if not",
		Long: `verify reads a callback as captured from an access log, a proxy or a queue, and answers "why did my
handler refuse KooGallery?": it checks each part the way the SDK's handlers do — the signature
parameters, the timestamp's form, the nonce's form, the freshness window, and the signature over each
form of the body KooGallery may have signed (as received, canonical, ...), naming the form that
matches or the mistake it matches (the wrong scheme, still-encoded V1 values, a trailing newline) —
and then runs the SDK's own handler on it and reports its answer.

The capture is HTTP/1.1 wire form:

  POST /isv/produce?signature=…&timestamp=…&nonce=… HTTP/1.1
  Host: seller.example.com
  Content-Type: application/json

  {"activity":"newInstance",…}

(the HTTP version may be missing; a URL may be absolute), or JSON
{"method":"POST","url":"https://…","headers":{"x-sign":"…"},"body":"…"}, which is also what
kgctl callback --json prints.

The window is judged at --at, the time the request was received (default now): pass it for an old
capture. The family is detected from the signature's place unless --family is given; the key is
read as for kgctl callback (KOOGALLERY_ACCESS_KEY, KOOGALLERY_V1_KEY, KOOGALLERY_KIT_KEY).`,
		Example: `  kgctl verify < request.txt
  kgctl verify --family kit --key-file kit.key --at 2026-11-27T08:30:00Z --file request.txt
  kgctl verify --json < request.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			in := cmd.InOrStdin()
			if file != "" {
				b, err := readArg("@" + file)
				if err != nil {
					return err
				}
				in = bytes.NewReader(b)
			}
			c, err := readCapture(in)
			if err != nil {
				return err
			}
			var fam *family
			if famName != "" {
				fam, err = lookupFamily(famName)
			} else {
				fam, err = detectFamily(c)
			}
			if err != nil {
				return err
			}
			k, err := key.resolve(fam.env)
			if err != nil {
				return err
			}
			when := time.Now()
			if at != "" {
				if when, err = parseAt(at); err != nil {
					return err
				}
			}
			v := &verifier{c: c, fam: fam, key: k, at: when, skew: skew, v1window: v1window}
			v.run()
			w := cmd.OutOrStdout()
			if asJSON {
				if err := writeJSON(w, struct {
					Family   string  `json:"family"`
					Verifies bool    `json:"verifies"`
					Checks   []check `json:"checks"`
				}{fam.name, v.verifies(), v.checks}); err != nil {
					return runErr(err)
				}
			} else {
				fmt.Fprintf(w, "kgctl verify: %s %s as %s (%s), judged at %s\n\n", c.Method, c.URL.Path, fam.name, fam.title, when.UTC().Format(time.RFC3339))
				printChecks(w, v.checks)
				if v.verifies() {
					fmt.Fprintln(w, "\nThe request verifies.")
				} else {
					fmt.Fprintln(w, "\nThe request does not verify.")
				}
			}
			if !v.verifies() {
				return errFailed
			}
			return nil
		},
	}
	key.register(cmd, "key", "key", "the family's environment variable")
	cmd.Flags().StringVar(&famName, "family", "", "the family: "+familyNames()+" (default: detected)")
	cmd.Flags().StringVar(&file, "file", "", "read the capture from this file instead of standard input")
	cmd.Flags().StringVar(&at, "at", "", "when the request was received: RFC 3339 or Unix milliseconds (default now)")
	cmd.Flags().DurationVar(&skew, "skew", 5*time.Second, "clock-skew allowance on top of the 60 s window (the handlers' WithClockSkew)")
	cmd.Flags().DurationVar(&v1window, "v1-window", 24*time.Hour, "V1 freshness window (the handlers' WithV1Window)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

func parseAt(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	return time.Time{}, usageErr("--at %q: want RFC 3339 (2026-11-27T08:30:00Z) or Unix milliseconds", s)
}

type verifier struct {
	c        *captured
	fam      *family
	key      string
	at       time.Time
	skew     time.Duration
	v1window time.Duration
	checks   []check
}

func (v *verifier) add(name string, pass bool, reason, hint string) {
	v.checks = append(v.checks, check{Name: name, Pass: pass, Reason: reason, Hint: hint})
}

// verifies is true when every part the signature depends on passed.
func (v *verifier) verifies() bool {
	for _, c := range v.checks {
		if !c.Pass && !c.Skipped && c.Name != "SDK handler" {
			return false
		}
	}
	return len(v.checks) > 0
}

func (v *verifier) run() {
	switch v.fam.scheme {
	case schemeV2, schemeKitV2:
		v.runV2()
	case schemeV1:
		v.runV1Query()
	case schemeKitV1:
		v.runV1Kit()
	}
	v.handler()
}

func firstValue(q url.Values, name string) (string, int) { return q.Get(name), len(q[name]) }

func (v *verifier) runV2() {
	kit := v.fam.scheme == schemeKitV2
	var sig, ts, nonce string
	where := "query parameters signature, timestamp, nonce"
	if kit {
		sig, ts, nonce = v.c.Header.Get("x-sign"), v.c.Header.Get("x-timestamp"), v.c.Header.Get("x-nonce")
		where = "headers x-sign, x-timestamp, x-nonce"
	} else {
		q := v.c.URL.Query()
		var n int
		sig, n = firstValue(q, "signature")
		ts, _ = firstValue(q, "timestamp")
		nonce, _ = firstValue(q, "nonce")
		if n > 1 {
			v.add("signature parameters", true, "signature appears more than once; the first is used", "")
		}
	}
	if v.c.Method != http.MethodPost {
		v.add("method", false, v.c.Method+"; KooGallery POSTs these callbacks", "the handlers answer 000002 to any other method")
	}
	if sig == "" || ts == "" || nonce == "" {
		var missing []string
		for _, p := range [][2]string{{"signature", sig}, {"timestamp", ts}, {"nonce", nonce}} {
			if p[1] == "" {
				missing = append(missing, p[0])
			}
		}
		v.add("signature parameters", false, "missing "+strings.Join(missing, ", ")+" ("+where+")",
			"a proxy or router may have dropped the query string or the headers on the way to the handler")
		return
	}
	v.add("signature parameters", true, "", "")

	stamp, tsOK := v.timestampForm(ts)
	v.nonceForm(nonce)
	if tsOK {
		d := time.UnixMilli(stamp).Sub(v.at)
		limit := 60*time.Second + v.skew
		if abs(d) <= limit {
			v.add("freshness window", true, fmt.Sprintf("timestamp is %v %s --at", abs(d).Round(time.Millisecond), beforeAfter(d)), "")
		} else {
			v.add("freshness window", false, fmt.Sprintf("timestamp %s is %v %s the time judged at; the handlers allow 60 s + %v",
				time.UnixMilli(stamp).UTC().Format(time.RFC3339Nano), abs(d).Round(time.Second), beforeAfter(d), v.skew),
				"for an old capture pass --at with the time it was received; otherwise the server's clock is off (use NTP) or the call was replayed")
		}
	}
	if !hexWellFormed(sig) {
		v.add("signature", false, "not 64 hex digits", "the signature was cut or re-encoded on the way")
		return
	}
	v.signature(v2Forms(v.key, kit, sig, nonce, ts, v.c.Body))
}

func beforeAfter(d time.Duration) string {
	if d < 0 {
		return "before"
	}
	return "after"
}

func (v *verifier) timestampForm(ts string) (int64, bool) {
	bad := func(reason string) (int64, bool) {
		v.add("timestamp form", false, reason, "KooGallery sends Unix time in milliseconds, 13 decimal digits")
		return 0, false
	}
	if len(ts) > 18 || strings.TrimLeft(ts, "0123456789") != "" {
		return bad(fmt.Sprintf("%q is not decimal digits", ts))
	}
	if ts[0] == '0' {
		return bad(fmt.Sprintf("%q has a leading zero: the signature covers nonce and timestamp joined, so a leading zero can be moved from the nonce; the handlers refuse it", ts))
	}
	n, _ := strconv.ParseInt(ts, 10, 64)
	if len(ts) <= 10 {
		return bad(fmt.Sprintf("%q looks like seconds", ts))
	}
	v.add("timestamp form", true, time.UnixMilli(n).UTC().Format(time.RFC3339Nano), "")
	return n, true
}

func (v *verifier) nonceForm(nonce string) {
	switch {
	case len(nonce) > 256:
		v.add("nonce form", false, fmt.Sprintf("%d characters; the handlers accept at most 256", len(nonce)), "")
	case strings.Trim(nonce, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "":
		v.add("nonce form", true, fmt.Sprintf("%q has characters other than letters and digits (KooGallery sends alphanumerics)", nonce), "")
	default:
		v.add("nonce form", true, fmt.Sprintf("%d alphanumerics", len(nonce)), "")
	}
}

// signature reports which form the signature covers.
func (v *verifier) signature(forms []form) {
	var tried []string
	for _, f := range forms {
		if f.matches && f.accepted {
			v.add("signature", true, "verifies over "+f.name, "")
			return
		}
	}
	for _, f := range forms {
		if f.matches {
			v.add("signature", false, "matches only "+f.name, f.hint)
			return
		}
		if f.accepted {
			tried = append(tried, f.name)
		}
	}
	reason := "matches no form (tried " + strings.Join(tried, "; ") + ")"
	hint := "the wrong key (check which key the console shows for this interface), or the body, nonce or timestamp changed after signing"
	for _, f := range forms {
		if f.accepted && strings.HasPrefix(f.name, "the canonical") && f.payload != string(v.c.Body) {
			hint += "; the canonical form signed is " + snippetN(f.payload, 200)
			break
		}
	}
	v.add("signature", false, reason, hint)
}

func snippetN(s string, n int) string {
	if len(s) > n {
		s = s[:n] + "…"
	}
	return s
}

func (v *verifier) v1Stamp(ts string, loc *time.Location, zone string) {
	t, err := time.ParseInLocation("20060102150405.000", ts[:min(14, len(ts))]+"."+ts[min(14, len(ts)):], loc)
	if len(ts) != 17 || strings.TrimLeft(ts, "0123456789") != "" || err != nil {
		v.add("timeStamp form", false, fmt.Sprintf("%q is not yyyyMMddHHmmssSSS", ts), "KooGallery sends 17 digits, "+zone)
		return
	}
	v.add("timeStamp form", true, t.UTC().Format(time.RFC3339Nano)+" ("+zone+")", "")
	if v.v1window <= 0 {
		return
	}
	d := t.Sub(v.at)
	if abs(d) <= v.v1window+v.skew {
		v.add("freshness window", true, fmt.Sprintf("timeStamp is %v %s --at (window %v)", abs(d).Round(time.Second), beforeAfter(d), v.v1window), "")
		return
	}
	v.add("freshness window", false, fmt.Sprintf("timeStamp is %v %s the time judged at; the V1 handlers allow %v", abs(d).Round(time.Second), beforeAfter(d), v.v1window),
		"for an old capture pass --at; a window mismatch of 8 h means UTC and GMT+8 were mixed up (the basic interface's timeStamp is UTC, the kit's GMT+8)")
}

func (v *verifier) runV1Query() {
	q := v.c.URL.Query()
	token := q.Get("authToken")
	if token == "" || q.Get("timeStamp") == "" {
		v.add("signature parameters", false, "missing authToken or timeStamp in the query", "a proxy may have dropped the query string")
		return
	}
	v.add("signature parameters", true, "", "")
	forms, ts := v1QueryForms(v.key, v.c.URL.RawQuery, token)
	v.v1Stamp(ts, time.UTC, "UTC")
	if !tokenWellFormed(token) {
		v.add("signature", false, "authToken is not the Base64 of an HMAC-SHA256", "the token was cut or re-encoded on the way")
		return
	}
	v.signature(forms)
}

func (v *verifier) runV1Kit() {
	token := v.c.Header.Get("authToken")
	if token == "" {
		v.add("signature parameters", false, "missing the authToken header", "a proxy may have dropped it (some drop headers they do not know)")
		return
	}
	ts := kitTimeStamp(v.c.Body)
	if ts == "" {
		v.add("signature parameters", false, "the body has no timeStamp", "")
		return
	}
	v.add("signature parameters", true, "", "")
	v.v1Stamp(ts, gmt8, "GMT+8")
	if !tokenWellFormed(token) {
		v.add("signature", false, "authToken is not the Base64 of an HMAC-SHA256", "")
		return
	}
	forms := v1KitForms(v.key, v.c.Body, token)
	if forms == nil {
		v.add("signature", false, "the body is not a JSON object", "")
		return
	}
	v.signature(forms)
}

// handler runs the SDK's own handler for the family on the capture, with
// its clock at --at, and reports its answer and its log's reason.
func (v *verifier) handler() {
	var logs bytes.Buffer
	lg := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	now := func() time.Time { return v.at }
	rec := &recordingProvider{}
	var h http.Handler
	path := v.c.URL.Path
	switch v.fam.name {
	case "saas":
		h = saas.NewHandler(v.key, rec, saas.WithClock(now), saas.WithClockSkew(v.skew), saas.WithLogger(lg))
	case "saas-v1":
		h = saas.NewV1Handler(v.key, v1Provider{rec}, saas.WithClock(now), saas.WithClockSkew(v.skew), saas.WithV1Window(v.v1window), saas.WithLogger(lg))
	case "kit", "kit-v1":
		h = kit.NewHandler(v.key, rec, saas.WithClock(now), saas.WithClockSkew(v.skew), saas.WithV1Window(v.v1window), saas.WithLogger(lg))
	case "license":
		h = license.NewHandler(v.key, rec, license.WithClock(now), license.WithClockSkew(v.skew), license.WithLogger(lg))
	case "order":
		h = order.NewNotificationHandler(v.key, func(_ context.Context, n *order.Notification) error {
			rec.note("orderNotify " + n.OrderID)
			return nil
		}, order.WithClock(now), order.WithClockSkew(v.skew), order.WithLogger(lg))
	}
	u := *v.c.URL
	u.Scheme, u.Host = "http", "capture.invalid"
	req, err := http.NewRequest(v.c.Method, u.String(), bytes.NewReader(v.c.Body))
	if err != nil {
		v.checks = append(v.checks, check{Name: "SDK handler", Reason: "the captured method or URL is not a valid request: " + err.Error()})
		return
	}
	req.URL.Path = path
	req.RemoteAddr = "192.0.2.1:1234"
	for k, vs := range v.c.Header {
		if k != "Content-Length" && k != "Host" {
			req.Header[k] = vs
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	var ans struct {
		ResultCode string `json:"resultCode"`
		ResultMsg  string `json:"resultMsg"`
	}
	_ = json.Unmarshal(w.Body.Bytes(), &ans)
	reason := "answers " + ans.ResultCode + " " + quoteMsg(ans.ResultMsg)
	if r := logReason(logs.Bytes()); r != "" {
		reason += "; its log: " + r
	}
	if called := rec.calls(); len(called) > 0 {
		reason += "; the provider would receive " + strings.Join(called, ", ")
	}
	c := check{Name: "SDK handler", ResultCode: ans.ResultCode, Pass: ans.ResultCode != "000001" && ans.ResultCode != "", Reason: reason}
	if !c.Pass {
		c.Hint = "see the failing part above"
	}
	v.checks = append(v.checks, c)
}

// logReason picks the reason of the handler's refusal or failure.
func logReason(b []byte) string {
	var out []string
	for _, line := range bytes.Split(b, []byte("\n")) {
		var e map[string]any
		if json.Unmarshal(line, &e) != nil {
			continue
		}
		if r, ok := e["reason"].(string); ok {
			out = append(out, r)
		} else if m, ok := e["msg"].(string); ok && e["level"] != "DEBUG" {
			out = append(out, strings.TrimPrefix(m, "koogallery: "))
		}
	}
	return strings.Join(out, "; ")
}

// recordingProvider accepts every call and notes what it received, for
// verify to say what reaches a provider.
type recordingProvider struct {
	mu  sync.Mutex
	got []string
}

func (p *recordingProvider) note(s string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.got = append(p.got, s)
}

func (p *recordingProvider) calls() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.got...)
}

func (p *recordingProvider) NewInstance(_ context.Context, r *saas.NewInstanceRequest) (*saas.NewInstanceResponse, error) {
	p.note("NewInstance(orderId=" + r.OrderID + ", orderLineId=" + r.OrderLineID + ")")
	return &saas.NewInstanceResponse{InstanceID: "kgctl-verify"}, nil
}

func (p *recordingProvider) QueryInstance(_ context.Context, r *saas.QueryInstanceRequest) (*saas.QueryInstanceResponse, error) {
	p.note("QueryInstance(" + strings.Join(r.InstanceIDs, ",") + ")")
	return &saas.QueryInstanceResponse{}, nil
}

func (p *recordingProvider) RefreshInstance(_ context.Context, r *saas.RefreshInstanceRequest) error {
	p.note("RefreshInstance(instanceId=" + r.InstanceID + ")")
	return nil
}

func (p *recordingProvider) UpdateInstanceStatus(_ context.Context, r *saas.UpdateInstanceStatusRequest) error {
	p.note("UpdateInstanceStatus(instanceId=" + r.InstanceID + ", status=" + string(r.Status) + ")")
	return nil
}

func (p *recordingProvider) ReleaseInstance(_ context.Context, r *saas.ReleaseInstanceRequest) error {
	p.note("ReleaseInstance(instanceId=" + r.InstanceID + ")")
	return nil
}

func (p *recordingProvider) UpgradeInstance(_ context.Context, r *saas.UpgradeInstanceRequest) error {
	p.note("UpgradeInstance(instanceId=" + r.InstanceID + ")")
	return nil
}

func (p *recordingProvider) v1(name, id string) error {
	p.note(name + "(instanceId=" + id + ")")
	return nil
}

// The V1 provider methods share names with the V2 ones but take V1
// requests, so V1 calls go through v1Provider.
type v1Provider struct{ *recordingProvider }

func (p v1Provider) NewInstance(_ context.Context, r *saas.V1NewInstanceRequest) (*saas.V1NewInstanceResponse, error) {
	p.note("NewInstance(orderId=" + r.OrderID + ")")
	return &saas.V1NewInstanceResponse{InstanceID: "kgctl-verify"}, nil
}
func (p v1Provider) RefreshInstance(_ context.Context, r *saas.V1RefreshInstanceRequest) error {
	return p.v1("RefreshInstance", r.InstanceID)
}
func (p v1Provider) ExpireInstance(_ context.Context, r *saas.V1ExpireInstanceRequest) error {
	return p.v1("ExpireInstance", r.InstanceID)
}
func (p v1Provider) ReleaseInstance(_ context.Context, r *saas.V1ReleaseInstanceRequest) error {
	return p.v1("ReleaseInstance", r.InstanceID)
}
func (p v1Provider) Upgrade(_ context.Context, r *saas.V1UpgradeRequest) error {
	return p.v1("Upgrade", r.InstanceID)
}
func (p v1Provider) InstanceStatus(_ context.Context, r *saas.V1InstanceStatusRequest) error {
	return p.v1("InstanceStatus", r.InstanceID)
}

func (p *recordingProvider) TenantSync(_ context.Context, r *kit.TenantSyncRequest) error {
	p.note("TenantSync(tenantId=" + r.TenantID + ", flag=" + r.Flag.String() + ")")
	return nil
}
func (p *recordingProvider) ApplicationSync(_ context.Context, r *kit.ApplicationSyncRequest) error {
	p.note("ApplicationSync(tenantId=" + r.TenantID + ", appId=" + r.AppID + ")")
	return nil
}
func (p *recordingProvider) AuthSync(_ context.Context, r *kit.AuthSyncRequest) error {
	p.note(fmt.Sprintf("AuthSync(tenantId=%s, %d users)", r.TenantID, len(r.Users)))
	return nil
}
func (p *recordingProvider) SingleOrgSync(_ context.Context, r *kit.SingleOrgSyncRequest) error {
	p.note("SingleOrgSync(orgCode=" + r.OrgCode + ")")
	return nil
}
func (p *recordingProvider) AllOrgSync(_ context.Context, r *kit.AllOrgSyncRequest) error {
	p.note(fmt.Sprintf("AllOrgSync(tenantId=%s, %d departments)", r.TenantID, len(r.Orgs)))
	return nil
}

func (p *recordingProvider) RefreshLicenseCode(_ context.Context, r *license.RefreshLicenseCodeRequest) error {
	p.note("RefreshLicenseCode(license=" + r.License + ")")
	return nil
}
func (p *recordingProvider) UpdateLicenseCodeStatus(_ context.Context, r *license.UpdateLicenseCodeStatusRequest) error {
	p.note("UpdateLicenseCodeStatus(license=" + r.License + ")")
	return nil
}
func (p *recordingProvider) ReleaseLicenseCode(_ context.Context, r *license.ReleaseLicenseCodeRequest) error {
	p.note("ReleaseLicenseCode(license=" + r.License + ")")
	return nil
}

// urlProblem says what url.Parse found wrong without its error's text,
// which quotes the URL (and so any password in it) or a piece of it.
func urlProblem(err error) string {
	var esc url.EscapeError
	var host url.InvalidHostError
	msg := err.Error()
	switch {
	case errors.As(err, &esc):
		return `a "%" not followed by two hexadecimal digits`
	case errors.As(err, &host):
		return "a character a host name cannot hold"
	case strings.Contains(msg, "invalid userinfo"):
		return "a user or password character that must be percent-encoded"
	case strings.Contains(msg, "invalid port"):
		return `a port that is not a number: percent-encode "/", "#" and "?" in a password`
	case strings.Contains(msg, "control character"):
		return "a control character"
	case strings.Contains(msg, "missing protocol scheme"), strings.Contains(msg, "first path segment in URL cannot contain colon"):
		return "no scheme"
	}
	return "malformed"
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// readArg reads a flag value that may name a file with @file.
func readArg(v string) ([]byte, error) { return cmdutil.ReadArg(v) }
