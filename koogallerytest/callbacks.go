package koogallerytest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/internal/canonjson"
)

// Sender signs callbacks exactly as KooGallery does and sends them, so that
// a seller can test its production-interface handlers end to end with
// genuinely signed calls, and with the stale, replayed and forged ones its
// handlers must refuse. It is safe for concurrent use.
//
// Sign and Send use the V2 scheme of the SaaS V2 basic interface, License
// 2.0 and order notification (signature, timestamp and nonce as query
// parameters); SignKit uses the joint-operation kit's x-sign headers.
type Sender struct {
	key    *callback.Key
	client *http.Client
	now    func() time.Time
}

// SenderOption configures a Sender or a V1Sender: WithHTTPClient,
// WithClock.
type SenderOption interface{ applySender(*Sender) }

// WithHTTPClient sets the client that sends calls (http.DefaultClient if
// unset). Pass httptest.Server.Client() for a TLS test server.
func WithHTTPClient(c *http.Client) SenderOption {
	return senderFunc(func(s *Sender) { s.client = c })
}

// NewSender returns a Sender signing with accessKey, the secret the handler
// under test verifies with.
func NewSender(accessKey string, opts ...SenderOption) *Sender {
	s := &Sender{key: callback.NewKey(accessKey)}
	s.apply(opts)
	return s
}

// apply applies opts and fills in the defaults.
func (s *Sender) apply(opts []SenderOption) {
	for _, o := range opts {
		if o != nil {
			o.applySender(s)
		}
	}
	if s.client == nil {
		s.client = http.DefaultClient
	}
	if s.now == nil {
		s.now = time.Now
	}
}

// CallOption changes how one call is signed, mostly to produce calls a
// handler must refuse.
type CallOption func(*callConfig)

type callConfig struct {
	now    time.Time // the Sender's clock when the call is signed
	at     time.Time
	nonce  string
	key    *callback.Key
	tamper bool
}

// At stamps the call with t instead of the Sender's clock.
func At(t time.Time) CallOption {
	return func(c *callConfig) { c.at = t }
}

// Stale stamps the call two minutes before the Sender's clock, outside
// KooGallery's 60 s window and any reasonable skew allowance.
func Stale() CallOption {
	return func(c *callConfig) { c.at = c.now.Add(-2 * time.Minute) }
}

// WithNonce uses nonce instead of a fresh random one. Signing a call with
// the nonce and time of an earlier one produces a replay; sending the same
// Call twice does too.
func WithNonce(nonce string) CallOption {
	return func(c *callConfig) { c.nonce = nonce }
}

// ForgedKey signs the call with accessKey instead of the Sender's key, as
// someone who does not know the secret would.
func ForgedKey(accessKey string) CallOption {
	return func(c *callConfig) { c.key = callback.NewKey(accessKey) }
}

// Tampered changes the body after signing it (it adds a member), as a
// man in the middle would.
func Tampered() CallOption {
	return func(c *callConfig) { c.tamper = true }
}

// Call is one signed callback. It can be sent any number of times; every
// send after the first is a replay.
type Call struct {
	// URL includes the V2 scheme's signature, timestamp and nonce.
	URL string
	// Header holds Content-Type and, for the kit scheme, x-sign,
	// x-timestamp and x-nonce.
	Header http.Header
	// Body is sent as is.
	Body []byte
	// Nonce and Timestamp (Unix ms, decimal) are the signed values.
	Nonce, Timestamp string

	client *http.Client
}

// Sign signs body for the V2 scheme (SaaS V2 basic, License 2.0, order
// notification) and returns the call for target, the URL KooGallery would be
// configured with. body is sent as is if it is a []byte, json.RawMessage or
// string, and JSON-encoded otherwise; the signed payload is its canonical
// form, as KooGallery signs it.
func (s *Sender) Sign(target string, body any, opts ...CallOption) (*Call, error) {
	return s.sign(callback.SchemeV2, target, body, opts)
}

// SignKit is Sign for the joint-operation kit V2 scheme: the x-sign,
// x-timestamp and x-nonce headers.
func (s *Sender) SignKit(target string, body any, opts ...CallOption) (*Call, error) {
	return s.sign(callback.SchemeKit, target, body, opts)
}

// Send signs body for the V2 scheme and sends it to target once.
func (s *Sender) Send(ctx context.Context, target string, body any, opts ...CallOption) (*Answer, error) {
	c, err := s.Sign(target, body, opts...)
	if err != nil {
		return nil, err
	}
	return c.Send(ctx)
}

func (s *Sender) sign(scheme callback.Scheme, target string, body any, opts []CallOption) (*Call, error) {
	now := s.now()
	cfg := callConfig{now: now, at: now, key: s.key}
	for _, o := range opts {
		o(&cfg)
	}
	raw, err := encodeBody(body)
	if err != nil {
		return nil, fmt.Errorf("koogallerytest: sign: %w", err)
	}
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("koogallerytest: sign: %w", err)
	}
	if cfg.nonce == "" {
		cfg.nonce = randomNonce()
	}
	ts := strconv.FormatInt(cfg.at.UnixMilli(), 10)
	payload, err := canonjson.Append(nil, raw)
	if err != nil {
		payload = raw // not an object: sign it as is, for tests of garbage
	}
	c := &Call{Header: http.Header{}, Nonce: cfg.nonce, Timestamp: ts, client: s.client}
	if scheme == callback.SchemeKit {
		c.Header.Set("Content-Type", "application/json")
		c.Header.Set("x-sign", cfg.key.SignKit(cfg.nonce, ts, payload))
		c.Header.Set("x-timestamp", ts)
		c.Header.Set("x-nonce", cfg.nonce)
	} else {
		c.Header.Set("Content-Type", "application/json;charset=utf8") // as the docs show it
		q := u.Query()
		q.Set("signature", cfg.key.SignV2(cfg.nonce, ts, payload))
		q.Set("timestamp", ts)
		q.Set("nonce", cfg.nonce)
		u.RawQuery = q.Encode()
	}
	c.URL = u.String()
	if cfg.tamper {
		raw = tamper(raw)
	}
	c.Body = raw
	return c, nil
}

func encodeBody(body any) ([]byte, error) {
	switch b := body.(type) {
	case []byte:
		return b, nil
	case json.RawMessage:
		return b, nil
	case string:
		return []byte(b), nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// tamper adds a member to an object (which changes its canonical form) or
// a byte to anything else.
func tamper(body []byte) []byte {
	out := make([]byte, 0, len(body)+16)
	if i := bytes.IndexByte(body, '{'); i >= 0 && json.Valid(body) {
		out = append(out, body[:i+1]...)
		out = append(out, `"tampered":"1"`...)
		if rest := bytes.TrimLeft(body[i+1:], " \t\r\n"); len(rest) > 0 && rest[0] != '}' {
			out = append(out, ',')
		}
		return append(out, body[i+1:]...)
	}
	return append(append(out, body...), 'x')
}

const nonceAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"

// randomNonce returns 16 random upper-case alphanumerics, like the nonces in
// KooGallery's examples.
func randomNonce() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand documents it)
	for i := range b {
		b[i] = nonceAlphabet[int(b[i])%len(nonceAlphabet)]
	}
	return string(b[:])
}

// Request returns a new POST request for the call.
func (c *Call) Request(ctx context.Context) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(c.Body))
	if err != nil {
		return nil, fmt.Errorf("koogallerytest: request: %w", err)
	}
	req.Header = c.Header.Clone()
	return req, nil
}

// Send sends the call and decodes the handler's answer. An answer that is
// not a JSON object is an error; a result code other than 000000 is not.
func (c *Call) Send(ctx context.Context) (*Answer, error) {
	req, err := c.Request(ctx)
	if err != nil {
		return nil, err
	}
	client := c.client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("koogallerytest: send: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("koogallerytest: send: read answer: %w", err)
	}
	r := &Answer{StatusCode: resp.StatusCode, ContentType: resp.Header.Get("Content-Type"), Body: raw}
	if err := json.Unmarshal(raw, r); err != nil {
		return r, fmt.Errorf("koogallerytest: send: answer (HTTP %d) is not a JSON object: %w", resp.StatusCode, err)
	}
	return r, nil
}

// Answer is a handler's answer to a call.
type Answer struct {
	StatusCode  int    `json:"-"`
	ContentType string `json:"-"`
	// ResultCode and ResultMsg are the answer's resultCode and resultMsg.
	ResultCode string `json:"resultCode"`
	ResultMsg  string `json:"resultMsg"`
	// InstanceID is the instanceId of a newInstance answer.
	InstanceID string `json:"instanceId"`
	// Body is the answer as received; decode it for other members.
	Body []byte `json:"-"`
}
