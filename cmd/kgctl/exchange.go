package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/isvkit/koogallery/koogallerytest"
)

// target is a seller's production interface and how to reach it.
type target struct {
	fam     *family
	url     string // the production URL configured in the seller console
	key     string
	timeout time.Duration // how long KooGallery waits for an answer
	client  *http.Client

	v2 *koogallerytest.Sender
	v1 *koogallerytest.V1Sender

	kitPublicKey *rsa.PublicKey // encrypts applicationSync's clientSecret
}

// defaultTimeout is how long KooGallery waits for an answer.
const defaultTimeout = 5 * time.Second

func newTarget(fam *family, rawURL, key string, timeout time.Duration) (*target, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageErr("--url must be an absolute http(s) URL, the production URL of the seller console")
	}
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	t := &target{fam: fam, url: rawURL, key: key, timeout: timeout}
	// Each call is bounded by its own context; the client only keeps
	// connections and refuses redirects, as KooGallery's caller does not
	// follow them either.
	t.client = &http.Client{
		Transport:     http.DefaultTransport.(*http.Transport).Clone(),
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	if fam.scheme.v1() {
		t.v1 = koogallerytest.NewV1Sender(key, koogallerytest.WithHTTPClient(t.client))
	} else {
		t.v2 = koogallerytest.NewSender(key, koogallerytest.WithHTTPClient(t.client))
	}
	return t, nil
}

func (t *target) loadKitPublicKey(path string) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return runErr(fmt.Errorf("read --kit-public-key: %w", err))
	}
	der := b
	if blk, _ := pem.Decode(b); blk != nil {
		der = blk.Bytes
	} else if d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b))); err == nil {
		der = d
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		if k, err2 := x509.ParsePKCS1PublicKey(der); err2 == nil {
			pub = k
		} else {
			return usageErr("--kit-public-key: not an RSA public key in PEM, DER or Base64 DER")
		}
	}
	k, ok := pub.(*rsa.PublicKey)
	if !ok {
		return usageErr("--kit-public-key: not an RSA public key")
	}
	t.kitPublicKey = k
	return nil
}

// endpoint returns the URL a call of activity goes to: the kit's calls go to
// the production URL with KooGallery's fixed sub-path appended.
func (t *target) endpoint(activity string) string {
	if !t.fam.scheme.kit() {
		return t.url
	}
	if strings.Contains(t.url, "/produceAPI/") {
		return t.url // already a full kit URL
	}
	sub := "/produceAPI/v2/"
	if t.fam.scheme == schemeKitV1 {
		sub = "/produceAPI/"
	}
	u, _ := url.Parse(t.url)
	u.Path = strings.TrimSuffix(u.Path, "/") + sub + activity
	u.RawPath = ""
	return u.String()
}

// mode says how a call is signed: genuinely, or as one a handler must refuse.
type mode int

const (
	genuine  mode = iota
	stale         // outside the freshness window
	tampered      // changed after signing
	forged        // signed with a key that is not the seller's
	unsigned      // no signature at all
)

func (m mode) String() string {
	return [...]string{"genuine", "stale", "tampered", "forged", "unsigned"}[m]
}

// exchange is one call and its answer.
type exchange struct {
	Activity string
	Method   string
	URL      string
	Header   http.Header
	Body     []byte // request body; nil for V1 GET

	// The answer. Err is set when none arrived in time.
	Err         error
	Status      int
	RespHeader  http.Header
	Answer      []byte
	Duration    time.Duration
	ResultCode  string // "" when absent or not a string
	CodeRaw     string // resultCode as sent, for messages
	ResultMsg   string
	InstanceID  string
	Info        []string // queryInstance: the instance IDs listed
	BodySignErr error    // V1: nil iff Body-Sign verifies
	AppInfoErr  error    // V1: nil iff the credentials decrypt
	NotJSON     error
}

// prepared is a signed call that can be sent any number of times.
type prepared struct {
	activity string
	send     func(ctx context.Context) *exchange
}

// prepare signs one call of activity with the given body (V2, kit) or
// parameters (V1).
func (t *target) prepare(activity string, m map[string]any, raw []byte, md mode) (*prepared, error) {
	endpoint := t.endpoint(activity)
	if t.fam.scheme.v1() {
		var opts []koogallerytest.V1CallOption
		switch md {
		case stale:
			opts = append(opts, koogallerytest.V1Stale())
		case tampered:
			opts = append(opts, koogallerytest.V1Tampered())
		case forged:
			opts = append(opts, koogallerytest.V1ForgedKey("kgctl-forged-"+randomHex(8)))
		}
		var call *koogallerytest.V1Call
		var err error
		if t.fam.scheme == schemeV1 {
			p := params(m)
			if raw != nil {
				q, perr := url.ParseQuery(string(raw))
				if perr != nil {
					return nil, usageErr("--body for saas-v1 is a query string (a=1&b=2): %v", perr)
				}
				p = map[string]string{}
				for k := range q {
					p[k] = q.Get(k)
				}
			}
			call, err = t.v1.Sign(endpoint, p, opts...)
		} else {
			var body any = m
			if raw != nil {
				body = raw
			}
			call, err = t.v1.SignKit(endpoint, body, opts...)
		}
		if err != nil {
			return nil, usageErr("sign %s: %w", activity, err)
		}
		if md == unsigned {
			stripV1(call)
		}
		return &prepared{activity: activity, send: func(ctx context.Context) *exchange { return t.sendV1(ctx, activity, call) }}, nil
	}
	var opts []koogallerytest.CallOption
	switch md {
	case stale:
		opts = append(opts, koogallerytest.Stale())
	case tampered:
		opts = append(opts, koogallerytest.Tampered())
	case forged:
		opts = append(opts, koogallerytest.ForgedKey("kgctl-forged-"+randomHex(8)))
	}
	var body any = m
	if raw != nil {
		body = raw
	}
	var call *koogallerytest.Call
	var err error
	if t.fam.scheme == schemeKitV2 {
		call, err = t.v2.SignKit(endpoint, body, opts...)
	} else {
		call, err = t.v2.Sign(endpoint, body, opts...)
	}
	if err != nil {
		return nil, usageErr("sign %s: %w", activity, err)
	}
	if md == unsigned {
		call.URL = endpoint
		for _, h := range []string{"x-sign", "x-timestamp", "x-nonce"} {
			call.Header.Del(h)
		}
	}
	return &prepared{activity: activity, send: func(ctx context.Context) *exchange { return t.sendV2(ctx, activity, call) }}, nil
}

// stripV1 removes a V1 call's authToken.
func stripV1(c *koogallerytest.V1Call) {
	c.Header.Del("authToken")
	if u, err := url.Parse(c.URL); err == nil {
		q := u.Query()
		q.Del("authToken")
		u.RawQuery = q.Encode()
		c.URL = u.String()
	}
}

func (t *target) sendV2(ctx context.Context, activity string, call *koogallerytest.Call) *exchange {
	x := &exchange{Activity: activity, Method: http.MethodPost, URL: call.URL, Header: call.Header.Clone(), Body: call.Body}
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	req, err := call.Request(ctx)
	if err != nil {
		x.Err = err
		return x
	}
	t.do(x, req)
	return x
}

func (t *target) sendV1(ctx context.Context, activity string, call *koogallerytest.V1Call) *exchange {
	x := &exchange{Activity: activity, Method: call.Method, URL: call.URL, Header: call.Header.Clone(), Body: call.Body}
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	start := time.Now()
	a, err := call.Send(ctx)
	x.Duration = time.Since(start)
	if a == nil {
		x.Err = timeoutErr(ctx, err, t.timeout)
		return x
	}
	x.Status, x.Answer = a.StatusCode, a.Body
	x.RespHeader = http.Header{"Content-Type": {a.ContentType}}
	if a.BodySign != "" {
		x.RespHeader.Set("Body-Sign", a.BodySign)
	}
	x.BodySignErr = a.BodySignErr
	if err != nil && errors.Is(err, koogallerytest.ErrAppInfo) {
		x.AppInfoErr = appInfoErr(err)
	}
	x.decode()
	return x
}

// appInfoErr keeps the ErrAppInfo parts of a joined error.
func appInfoErr(err error) error {
	var parts []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if errors.Is(e, koogallerytest.ErrAppInfo) {
				parts = append(parts, e)
			}
		}
	}
	if len(parts) == 0 {
		return err
	}
	return errors.Join(parts...)
}

func (t *target) do(x *exchange, req *http.Request) {
	start := time.Now()
	resp, err := t.client.Do(req)
	if err != nil {
		x.Duration = time.Since(start)
		x.Err = timeoutErr(req.Context(), err, t.timeout)
		return
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(http.MaxBytesReader(nil, resp.Body, 1<<20))
	x.Duration = time.Since(start)
	if err != nil {
		x.Err = timeoutErr(req.Context(), err, t.timeout)
		return
	}
	x.Status, x.RespHeader, x.Answer = resp.StatusCode, resp.Header, buf.Bytes()
	x.decode()
}

func timeoutErr(ctx context.Context, err error, d time.Duration) error {
	if ctx.Err() != nil {
		return fmt.Errorf("no answer within %v (KooGallery gives up then and counts the call as failed)", d)
	}
	return err
}

// decode reads the answer's members tolerantly, for the checks.
func (x *exchange) decode() {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(x.Answer, &m); err != nil || m == nil {
		x.NotJSON = errors.New("the answer is not a JSON object")
		return
	}
	if raw, ok := m["resultCode"]; ok {
		x.CodeRaw = string(raw)
		var s string
		if json.Unmarshal(raw, &s) == nil {
			x.ResultCode, x.CodeRaw = s, s
		}
	}
	_ = json.Unmarshal(m["resultMsg"], &x.ResultMsg)
	_ = json.Unmarshal(m["instanceId"], &x.InstanceID)
	var info []struct {
		InstanceID string `json:"instanceId"`
	}
	if json.Unmarshal(m["info"], &info) == nil {
		for _, i := range info {
			x.Info = append(x.Info, i.InstanceID)
		}
	}
}

// encryptSecret encrypts a test clientSecret as KooGallery does, with the
// seller's uploaded public key (OAEP, SHA-256).
func (t *target) encryptSecret(secret string) string {
	if t.kitPublicKey == nil {
		// Without the seller's public key: any ciphertext-looking value.
		// A handler holding the private key answers 000002 for it.
		b := make([]byte, 384)
		_, _ = rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, t.kitPublicKey, []byte(secret), nil)
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(ct)
}

// sendAll sends n copies of p at once.
func sendAll(ctx context.Context, n int, p func() (*prepared, error)) ([]*exchange, error) {
	calls := make([]*prepared, n)
	for i := range calls {
		c, err := p()
		if err != nil {
			return nil, err
		}
		calls[i] = c
	}
	out := make([]*exchange, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = c.send(ctx)
		}()
	}
	close(start)
	wg.Wait()
	return out, nil
}
