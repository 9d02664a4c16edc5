// Package exchange plays KooGallery against a seller's production
// interface: it signs calls the way KooGallery does (genuinely, or as calls
// a handler must refuse), sends them with KooGallery's timeout, and checks
// each answer the way KooGallery reads it.
package exchange

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
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

	"github.com/isvkit/koogallery/cmd/kgctl/internal/cmdutil"
	"github.com/isvkit/koogallery/cmd/kgctl/internal/family"
)

// Target is a seller's production interface and how to reach it.
type Target struct {
	Fam     *family.Family
	URL     string // the production URL configured in the seller console
	Key     string
	Timeout time.Duration // how long KooGallery waits for an answer
	client  *http.Client

	v2 *koogallerytest.Sender
	v1 *koogallerytest.V1Sender

	KitPublicKey *rsa.PublicKey // encrypts applicationSync's clientSecret
}

// DefaultTimeout is how long KooGallery waits for an answer.
const DefaultTimeout = 5 * time.Second

// NewTarget returns the target at rawURL, whose calls are signed with key
// and wait timeout (0: DefaultTimeout) for an answer. client sends them;
// nil is a client that keeps connections and refuses redirects.
func NewTarget(fam *family.Family, rawURL, key string, timeout time.Duration, client *http.Client) (*Target, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, cmdutil.UsageErr("--url must be an absolute http(s) URL, the production URL of the seller console")
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	t := &Target{Fam: fam, URL: rawURL, Key: key, Timeout: timeout, client: client}
	// Each call is bounded by its own context; the client only keeps
	// connections and refuses redirects, as KooGallery's caller does not
	// follow them either.
	if t.client == nil {
		t.client = &http.Client{
			Transport:     http.DefaultTransport.(*http.Transport).Clone(),
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	if fam.Scheme.V1() {
		t.v1 = koogallerytest.NewV1Sender(key, koogallerytest.WithHTTPClient(t.client))
	} else {
		t.v2 = koogallerytest.NewSender(key, koogallerytest.WithHTTPClient(t.client))
	}
	return t, nil
}

// LoadKitPublicKey reads --kit-public-key (PEM, DER or Base64 DER); "" is
// none.
func (t *Target) LoadKitPublicKey(path string) error {
	if path == "" {
		return nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return cmdutil.RunErr(fmt.Errorf("read --kit-public-key: %w", err))
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
			return cmdutil.UsageErr("--kit-public-key: not an RSA public key in PEM, DER or Base64 DER")
		}
	}
	k, ok := pub.(*rsa.PublicKey)
	if !ok {
		return cmdutil.UsageErr("--kit-public-key: not an RSA public key")
	}
	t.KitPublicKey = k
	return nil
}

// Endpoint returns the URL a call of activity goes to: the kit's calls go to
// the production URL with KooGallery's fixed sub-path appended.
func (t *Target) Endpoint(activity string) string {
	if !t.Fam.Scheme.Kit() {
		return t.URL
	}
	if strings.Contains(t.URL, "/produceAPI/") {
		return t.URL // already a full kit URL
	}
	sub := "/produceAPI/v2/"
	if t.Fam.Scheme == family.SchemeKitV1 {
		sub = "/produceAPI/"
	}
	u, _ := url.Parse(t.URL)
	u.Path = strings.TrimSuffix(u.Path, "/") + sub + activity
	u.RawPath = ""
	return u.String()
}

// Mode says how a call is signed: genuinely, or as one a handler must refuse.
type Mode int

const (
	Genuine  Mode = iota // signed with the seller's key, now
	Stale                // outside the freshness window
	Tampered             // changed after signing
	Forged               // signed with a key that is not the seller's
	Unsigned             // no signature at all
)

// String names the mode as the report prints it.
func (m Mode) String() string {
	return [...]string{"genuine", "stale", "tampered", "forged", "unsigned"}[m]
}

// Prepared is a signed call that can be sent any number of times.
type Prepared struct {
	Activity string
	Send     func(ctx context.Context) *Exchange
}

// Prepare signs one call of activity with the given body (V2, kit) or
// parameters (V1).
func (t *Target) Prepare(activity string, m map[string]any, raw []byte, md Mode) (*Prepared, error) {
	if t.Fam.Scheme.V1() {
		return t.prepareV1(activity, m, raw, md)
	}
	return t.prepareV2(activity, m, raw, md)
}

// prepareV1 signs a SaaS V1 or kit V1 call.
func (t *Target) prepareV1(activity string, m map[string]any, raw []byte, md Mode) (*Prepared, error) {
	endpoint := t.Endpoint(activity)
	var opts []koogallerytest.V1CallOption
	switch md {
	case Stale:
		opts = append(opts, koogallerytest.V1Stale())
	case Tampered:
		opts = append(opts, koogallerytest.V1Tampered())
	case Forged:
		opts = append(opts, koogallerytest.V1ForgedKey("kgctl-forged-"+family.RandomHex(8)))
	}
	var call *koogallerytest.V1Call
	var err error
	if t.Fam.Scheme == family.SchemeV1 {
		p := family.Params(m)
		if raw != nil {
			q, perr := url.ParseQuery(string(raw))
			if perr != nil {
				return nil, cmdutil.UsageErr("--body for saas-v1 is a query string (a=1&b=2): %v", perr)
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
		return nil, cmdutil.UsageErr("sign %s: %w", activity, err)
	}
	if md == Unsigned {
		stripV1(call)
	}
	return &Prepared{Activity: activity, Send: func(ctx context.Context) *Exchange { return t.sendV1(ctx, activity, call) }}, nil
}

// prepareV2 signs a V2 basic-interface or kit V2 call.
func (t *Target) prepareV2(activity string, m map[string]any, raw []byte, md Mode) (*Prepared, error) {
	endpoint := t.Endpoint(activity)
	var opts []koogallerytest.CallOption
	switch md {
	case Stale:
		opts = append(opts, koogallerytest.Stale())
	case Tampered:
		opts = append(opts, koogallerytest.Tampered())
	case Forged:
		opts = append(opts, koogallerytest.ForgedKey("kgctl-forged-"+family.RandomHex(8)))
	}
	var body any = m
	if raw != nil {
		body = raw
	}
	var call *koogallerytest.Call
	var err error
	if t.Fam.Scheme == family.SchemeKitV2 {
		call, err = t.v2.SignKit(endpoint, body, opts...)
	} else {
		call, err = t.v2.Sign(endpoint, body, opts...)
	}
	if err != nil {
		return nil, cmdutil.UsageErr("sign %s: %w", activity, err)
	}
	if md == Unsigned {
		call.URL = endpoint
		for _, h := range []string{"x-sign", "x-timestamp", "x-nonce"} {
			call.Header.Del(h)
		}
	}
	return &Prepared{Activity: activity, Send: func(ctx context.Context) *Exchange { return t.sendV2(ctx, activity, call) }}, nil
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

func (t *Target) sendV2(ctx context.Context, activity string, call *koogallerytest.Call) *Exchange {
	x := &Exchange{Activity: activity, Method: http.MethodPost, URL: call.URL, Header: call.Header.Clone(), Body: call.Body}
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	req, err := call.Request(ctx)
	if err != nil {
		x.Err = err
		return x
	}
	t.do(x, req)
	return x
}

func (t *Target) sendV1(ctx context.Context, activity string, call *koogallerytest.V1Call) *Exchange {
	x := &Exchange{Activity: activity, Method: call.Method, URL: call.URL, Header: call.Header.Clone(), Body: call.Body}
	ctx, cancel := context.WithTimeout(ctx, t.Timeout)
	defer cancel()
	start := time.Now()
	a, err := call.Send(ctx)
	x.Duration = time.Since(start)
	if a == nil {
		x.Err = timeoutErr(ctx, err, t.Timeout)
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

func (t *Target) do(x *Exchange, req *http.Request) {
	start := time.Now()
	resp, err := t.client.Do(req)
	if err != nil {
		x.Duration = time.Since(start)
		x.Err = timeoutErr(req.Context(), err, t.Timeout)
		return
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, err = buf.ReadFrom(http.MaxBytesReader(nil, resp.Body, 1<<20))
	x.Duration = time.Since(start)
	if err != nil {
		x.Err = timeoutErr(req.Context(), err, t.Timeout)
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

// EncryptSecret encrypts a test clientSecret as KooGallery does, with the
// seller's uploaded public key (OAEP, SHA-256).
func (t *Target) EncryptSecret(secret string) string {
	if t.KitPublicKey == nil {
		// Without the seller's public key: any ciphertext-looking value.
		// A handler holding the private key answers 000002 for it.
		b := make([]byte, 384)
		_, _ = rand.Read(b)
		return base64.StdEncoding.EncodeToString(b)
	}
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, t.KitPublicKey, []byte(secret), nil)
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(ct)
}

// SendAll sends n copies of p at once.
func SendAll(ctx context.Context, n int, p func() (*Prepared, error)) ([]*Exchange, error) {
	calls := make([]*Prepared, n)
	for i := range calls {
		c, err := p()
		if err != nil {
			return nil, err
		}
		calls[i] = c
	}
	out := make([]*Exchange, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			out[i] = c.Send(ctx)
		}()
	}
	close(start)
	wg.Wait()
	return out, nil
}
