package verify

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/family"
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
		return nil, cmdutil.RunErr(fmt.Errorf("read the captured request: %w", err))
	}
	if len(data) > maxCapture {
		return nil, cmdutil.UsageErr("the captured request is larger than %d MiB", maxCapture>>20)
	}
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 {
		return nil, cmdutil.UsageErr("no captured request on standard input (or --file)")
	}
	if trimmed[0] == '{' {
		return captureJSON(trimmed)
	}
	br := bufio.NewReader(bytes.NewReader(data))
	line, err := br.ReadString('\n')
	if err != nil && line == "" {
		return nil, cmdutil.UsageErr("the capture has no request line")
	}
	parts := strings.Fields(line)
	if len(parts) < 2 {
		// Not quoted: the line may hold a URL with a password.
		return nil, cmdutil.UsageErr("the first line must be METHOD URL [HTTP/1.1], not %d field(s)", len(parts))
	}
	tp := textproto.NewReader(br)
	mh, err := tp.ReadMIMEHeader()
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, cmdutil.UsageErr("reading the headers: %v", err)
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
		return nil, cmdutil.UsageErr("the JSON capture: %v", err)
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
			return nil, cmdutil.UsageErr(`the JSON capture: "headers" must map names to a string or a list of strings`)
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
		return nil, cmdutil.UsageErr("the captured URL does not parse (%s)", urlProblem(err))
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
func detectFamily(c *captured) (*family.Family, error) {
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
		return nil, cmdutil.UsageErr("cannot tell the family: no signature, x-sign or authToken; pass --family")
	}
	return family.Lookup(name)
}

func parseAt(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.UnixMilli(ms), nil
	}
	return time.Time{}, cmdutil.UsageErr("--at %q: want RFC 3339 (2026-11-27T08:30:00Z) or Unix milliseconds", s)
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
