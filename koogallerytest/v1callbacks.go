package koogallerytest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/isvkit/koogallery/internal/callback"
	"github.com/isvkit/koogallery/internal/fieldcrypt"
	"github.com/isvkit/koogallery/internal/v1sign"
)

// V1Sender signs V1 callbacks exactly as KooGallery does and sends them: the
// SaaS V1 basic interface (GET, authToken and timeStamp query parameters)
// and the joint-operation kit V1 (POST, authToken header, timeStamp in the
// body). It checks the Body-Sign header of every answer, as KooGallery does,
// and decrypts the appInfo credentials of V1 answers. It is safe for
// concurrent use.
type V1Sender struct {
	key    string
	client *http.Client
	now    func() time.Time
}

// NewV1Sender returns a V1Sender signing with key, the Key the handler under
// test verifies with (卖家中心 › 服务商管理 › 服务商信息). The SenderOptions
// WithHTTPClient and WithClock apply.
func NewV1Sender(key string, opts ...SenderOption) *V1Sender {
	var s Sender
	s.apply(opts)
	return &V1Sender{key: key, client: s.client, now: s.now}
}

// V1CallOption changes how one V1 call is signed, mostly to produce calls a
// handler must refuse.
type V1CallOption func(*v1CallConfig)

type v1CallConfig struct {
	now    time.Time // the Sender's clock when the call is signed
	at     time.Time
	key    string
	tamper bool
}

// V1At stamps the call with t instead of the Sender's clock (unless the
// call already carries a timeStamp).
func V1At(t time.Time) V1CallOption {
	return func(c *v1CallConfig) { c.at = t }
}

// V1Stale stamps the call 25 hours before the Sender's clock, outside the
// V1 handlers' default 24-hour window.
func V1Stale() V1CallOption {
	return func(c *v1CallConfig) { c.at = c.now.Add(-25 * time.Hour) }
}

// V1ForgedKey signs the call with key instead of the Sender's, as someone
// who does not know the secret would. Answers are still checked against the
// Sender's key, which the handler signs them with.
func V1ForgedKey(key string) V1CallOption {
	return func(c *v1CallConfig) { c.key = key }
}

// V1Tampered changes the call after signing it (it adds a parameter or a
// body member), as a man in the middle would.
func V1Tampered() V1CallOption {
	return func(c *v1CallConfig) { c.tamper = true }
}

// V1Call is one signed V1 call. It can be sent any number of times.
type V1Call struct {
	// Method is GET for the basic interface, POST for the kit.
	Method string
	// URL includes, for the basic interface, every parameter, timeStamp
	// and authToken.
	URL string
	// Header holds, for the kit, Content-Type and authToken.
	Header http.Header
	// Body is the kit body, nil for the basic interface.
	Body []byte
	// TimeStamp and AuthToken are the signed values.
	TimeStamp, AuthToken string

	key    string
	client *http.Client
}

// Sign signs a SaaS V1 basic-interface call to target, the URL KooGallery
// would be configured with. params are the decoded query parameters
// (activity, orderId, ...); a timeStamp is added (yyyyMMddHHmmssSSS, UTC)
// unless params has one. Values are sent percent-encoded, as KooGallery
// sends them.
func (s *V1Sender) Sign(target string, params map[string]string, opts ...V1CallOption) (*V1Call, error) {
	cfg := s.config(opts)
	u, err := url.Parse(target)
	if err != nil {
		return nil, fmt.Errorf("koogallerytest: sign v1: %w", err)
	}
	values := u.Query()
	for k, v := range params {
		values.Set(k, v)
	}
	values.Del(v1sign.ParamAuthToken)
	if values.Get(v1sign.ParamTimeStamp) == "" {
		values.Set(v1sign.ParamTimeStamp, formatStamp(cfg.at.UTC()))
	}
	token, err := v1sign.SignQuery(cfg.key, values)
	if err != nil {
		return nil, fmt.Errorf("koogallerytest: sign v1: %w", err)
	}
	values.Set(v1sign.ParamAuthToken, token)
	if cfg.tamper {
		values.Set("tampered", "1")
	}
	u.RawQuery = values.Encode()
	return &V1Call{Method: http.MethodGet, URL: u.String(), Header: http.Header{},
		TimeStamp: values.Get(v1sign.ParamTimeStamp), AuthToken: token, key: s.key, client: s.client}, nil
}

// SignKit signs a joint-operation kit V1 call to target (the production URL
// with /produceAPI/<name> appended). body is sent as is if it is a []byte,
// json.RawMessage or string, and JSON-encoded otherwise; it must be a JSON
// object. A timeStamp member (yyyyMMddHHmmssSSS, GMT+8) is added unless the
// body has one.
func (s *V1Sender) SignKit(target string, body any, opts ...V1CallOption) (*V1Call, error) {
	cfg := s.config(opts)
	raw, err := encodeBody(body)
	if err != nil {
		return nil, fmt.Errorf("koogallerytest: sign kit v1: %w", err)
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil || members == nil {
		return nil, fmt.Errorf("koogallerytest: sign kit v1: body is not a JSON object")
	}
	ts, present := v1StampOf(members)
	if !present {
		ts = formatStamp(cfg.at.In(gmt8))
		raw = addMember(raw, `"timeStamp":"`+ts+`"`)
	}
	token, err := v1sign.SignKit(cfg.key, raw)
	if err != nil {
		return nil, fmt.Errorf("koogallerytest: sign kit v1: %w", err)
	}
	if cfg.tamper {
		raw = tamper(raw)
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set(v1sign.HeaderAuthToken, token)
	return &V1Call{Method: http.MethodPost, URL: target, Header: h, Body: raw,
		TimeStamp: ts, AuthToken: token, key: s.key, client: s.client}, nil
}

// Send signs a V1 basic-interface call (see Sign) and sends it once.
func (s *V1Sender) Send(ctx context.Context, target string, params map[string]string, opts ...V1CallOption) (*V1Answer, error) {
	c, err := s.Sign(target, params, opts...)
	if err != nil {
		return nil, err
	}
	return c.Send(ctx)
}

// SendKit signs a kit V1 call (see SignKit) and sends it once.
func (s *V1Sender) SendKit(ctx context.Context, target string, body any, opts ...V1CallOption) (*V1Answer, error) {
	c, err := s.SignKit(target, body, opts...)
	if err != nil {
		return nil, err
	}
	return c.Send(ctx)
}

func (s *V1Sender) config(opts []V1CallOption) v1CallConfig {
	now := s.now()
	cfg := v1CallConfig{now: now, at: now, key: s.key}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

var gmt8 = time.FixedZone("GMT+8", 8*60*60)

// formatStamp writes t's wall clock as yyyyMMddHHmmssSSS.
func formatStamp(t time.Time) string {
	return strings.Replace(t.Format("20060102150405.000"), ".", "", 1)
}

// v1StampOf returns the timeStamp member's text (a string's or a number's)
// and whether the member is present.
func v1StampOf(members map[string]json.RawMessage) (string, bool) {
	v, ok := members[v1sign.ParamTimeStamp]
	if !ok {
		return "", false
	}
	s, _ := callback.Scalar(v)
	return s, true
}

// addMember inserts member as the first member of the JSON object body.
func addMember(body []byte, member string) []byte {
	i := bytes.IndexByte(body, '{')
	out := make([]byte, 0, len(body)+len(member)+1)
	out = append(out, body[:i+1]...)
	out = append(out, member...)
	if rest := bytes.TrimLeft(body[i+1:], " \t\r\n"); len(rest) > 0 && rest[0] != '}' {
		out = append(out, ',')
	}
	return append(out, body[i+1:]...)
}

// Request returns a new request for the call.
func (c *V1Call) Request(ctx context.Context) (*http.Request, error) {
	var body io.Reader
	if c.Body != nil {
		body = bytes.NewReader(c.Body)
	}
	req, err := http.NewRequestWithContext(ctx, c.Method, c.URL, body)
	if err != nil {
		return nil, fmt.Errorf("koogallerytest: request: %w", err)
	}
	req.Header = c.Header.Clone()
	return req, nil
}

// ErrBodySign reports an answer whose Body-Sign header is missing or does
// not verify over the answer's bytes with the Sender's key: KooGallery would
// reject it.
var ErrBodySign = errors.New("koogallerytest: Body-Sign does not verify")

// ErrAppInfo reports an answer whose appInfo userName or password does not
// decrypt with the Sender's key and the answer's encryptType, or is longer
// than the 128 characters KooGallery accepts: the buyer console would show
// nothing.
var ErrAppInfo = errors.New("koogallerytest: appInfo credentials KooGallery cannot read")

// Send sends the call and decodes the answer. The answer is returned
// whenever it arrived; the error reports an answer that is not a JSON
// object, a Body-Sign that does not verify (ErrBodySign), and credentials
// KooGallery could not read (ErrAppInfo). A result code other than 000000
// is not an error.
func (c *V1Call) Send(ctx context.Context) (*V1Answer, error) {
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
	a := &V1Answer{BodySign: resp.Header.Get(v1sign.HeaderBodySign)}
	a.StatusCode, a.ContentType, a.Body = resp.StatusCode, resp.Header.Get("Content-Type"), raw
	if a.BodySign == "" {
		a.BodySignErr = fmt.Errorf("%w: no Body-Sign header", ErrBodySign)
	} else if err := v1sign.VerifyBodySign(c.key, raw, a.BodySign); err != nil {
		a.BodySignErr = fmt.Errorf("%w: %w", ErrBodySign, err)
	}
	var wire v1Wire
	if err := json.Unmarshal(raw, &wire); err != nil {
		return a, errors.Join(fmt.Errorf("koogallerytest: send: answer (HTTP %d) is not a JSON object: %w", resp.StatusCode, err), a.BodySignErr)
	}
	a.ResultCode, a.ResultMsg, a.InstanceID, a.EncryptType = wire.ResultCode, wire.ResultMsg, wire.InstanceID, wire.EncryptType
	keys := fieldcrypt.DeriveKeys(c.key)
	var appErr error
	if wire.AppInfo != nil {
		a.AppInfo, appErr = wire.AppInfo.decrypt(keys, wire.EncryptType)
	}
	for _, in := range wire.Info {
		info := V1Info{InstanceID: in.InstanceID}
		if in.AppInfo != nil {
			var err error
			info.AppInfo, err = in.AppInfo.decrypt(keys, wire.EncryptType)
			appErr = errors.Join(appErr, err)
		}
		a.Info = append(a.Info, info)
	}
	return a, errors.Join(a.BodySignErr, appErr)
}

// V1Answer is a handler's answer to a V1 call.
type V1Answer struct {
	Answer
	// EncryptType is the answer's encryptType ("" when absent, which means
	// AES-256).
	EncryptType string
	// AppInfo is a newInstance answer's appInfo, credentials decrypted; nil
	// when absent.
	AppInfo *V1AppInfo
	// Info is a queryInstance answer's info, credentials decrypted.
	Info []V1Info
	// BodySign is the Body-Sign header as received; BodySignErr is nil if
	// and only if it verifies over Body with the Sender's key.
	BodySign    string
	BodySignErr error
}

// V1AppInfo is an appInfo of a V1 answer with its credentials decrypted.
type V1AppInfo struct {
	FrontEndURL string
	AdminURL    string
	UserName    string
	Password    string
	Memo        string
}

// V1Info is one instance of a V1 queryInstance answer.
type V1Info struct {
	InstanceID string
	AppInfo    *V1AppInfo
}

type v1Wire struct {
	ResultCode  string     `json:"resultCode"`
	ResultMsg   string     `json:"resultMsg"`
	InstanceID  string     `json:"instanceId"`
	EncryptType string     `json:"encryptType"`
	AppInfo     *v1AppWire `json:"appInfo"`
	Info        []struct {
		InstanceID string     `json:"instanceId"`
		AppInfo    *v1AppWire `json:"appInfo"`
	} `json:"info"`
}

type v1AppWire struct {
	FrontEndURL string `json:"frontEndUrl"`
	AdminURL    string `json:"adminUrl"`
	UserName    string `json:"userName"`
	Password    string `json:"password"`
	Memo        string `json:"memo"`
}

// decrypt checks and decrypts the credentials as KooGallery would: each at
// most 128 characters, IV included, under the answer's encryptType.
func (w *v1AppWire) decrypt(keys *fieldcrypt.Keys, encryptType string) (*V1AppInfo, error) {
	app := &V1AppInfo{FrontEndURL: w.FrontEndURL, AdminURL: w.AdminURL, Memo: w.Memo}
	t, err := fieldcrypt.ParseEncryptType(encryptType)
	if err != nil {
		return app, fmt.Errorf("%w: %w", ErrAppInfo, err)
	}
	var errs []error
	for _, f := range []struct {
		name string
		in   string
		out  *string
	}{{"userName", w.UserName, &app.UserName}, {"password", w.Password, &app.Password}} {
		if f.in == "" {
			continue
		}
		if len(f.in) > 128 {
			errs = append(errs, fmt.Errorf("%w: %s is %d characters, more than 128", ErrAppInfo, f.name, len(f.in)))
			continue
		}
		pt, err := keys.Decrypt(t, f.in)
		if err != nil {
			errs = append(errs, fmt.Errorf("%w: %s: %w", ErrAppInfo, f.name, err))
			continue
		}
		*f.out = pt
	}
	return app, errors.Join(errs...)
}
