package call

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/isvkit/koogallery/auth"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
)

func successCode(code string) bool {
	return code == "MKT.0000" || code == "CBC.0000" || code == "92020000"
}

// buildRequest builds the request the options describe, and returns its
// body (nil for none).
func buildRequest(opts *CallOptions) (*http.Request, []byte, error) {
	method, data, rawURL := strings.ToUpper(opts.Method), opts.Data, opts.URL
	target := rawURL
	if strings.HasPrefix(rawURL, "/") {
		base, err := opts.API.BaseURL(opts.Getenv)
		if err != nil {
			return nil, nil, err
		}
		target = strings.TrimSuffix(base, "/") + rawURL
	}
	u, err := url.Parse(target)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, nil, cmdutil.UsageErr("URL must be absolute (https://host/path) or a path starting with /")
	}
	var body []byte
	if data != "" {
		if body, err = cmdutil.ReadArg(data); err != nil {
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
		return nil, nil, cmdutil.UsageErr("%w", err)
	}
	if body == nil {
		req.Body, req.GetBody, req.ContentLength = http.NoBody, nil, 0
	}
	for _, h := range opts.Headers {
		k, v, ok := strings.Cut(h, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, nil, cmdutil.UsageErr("-H %q: want 'Name: value'", h)
		}
		k = strings.TrimSpace(k)
		if c := strings.ToLower(k); c == "authorization" || c == "x-sdk-date" || c == "x-security-token" {
			return nil, nil, cmdutil.UsageErr("-H %s: kgctl sets this header when signing", k)
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
	return cmdutil.UsageErr("refusing to send a signed request over plain http to %s: anyone on the way could replay it for 15 minutes; use https", host)
}

// send sends req with c, or, for nil, a client that waits timeout and
// follows no redirect.
func send(c *http.Client, req *http.Request, timeout time.Duration) (*http.Response, []byte, error) {
	if c == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		c = &http.Client{Transport: tr, Timeout: timeout,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
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
	cmdutil.PrintHeader(w, "", resp.Header)
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
