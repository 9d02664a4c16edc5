package callback

import (
	"errors"
	"net/http"
	"time"

	"github.com/isvkit/koogallery/internal/canonjson"
	"github.com/isvkit/koogallery/internal/v1sign"
)

const (
	// SchemeV1Query is the SaaS V1 basic interface: GET with the authToken
	// and timeStamp query parameters, Base64 HMAC keyed with Key + timeStamp
	// over the other decoded parameters (§3.1). Serve receives the verified
	// raw query string (URL.RawQuery) as its body, with each '+' written as
	// %2B when the authToken verified only with '+' kept literal, so that
	// form-decoding it gives the values signed. Answers carry Body-Sign.
	SchemeV1Query Scheme = 2
	// SchemeV1Kit is the joint-operation kit V1 interface: POST with the
	// authToken header, Base64 HMAC keyed with Key + the body's timeStamp
	// over the sorted top-level body fields (§3.2). Answers carry Body-Sign.
	SchemeV1Kit Scheme = 3
)

// DefaultV1Window is the default freshness window of the V1 schemes.
//
// KooGallery documents no window for V1 (its V1 authToken page, zh-cn_topic_0070649156, gives none)
// and re-sends newInstance for three hours, expireInstance and
// releaseInstance for one; the seller console can re-start a failed call
// later still. A 60 s window like V2's would break those retries should
// KooGallery re-send the originally signed request. No window at all would
// leave every V1 call replayable forever, and V1 calls are GET requests whose
// authToken sits in the URL, where access logs and proxies keep it: a logged
// expireInstance replayed after a renewal would freeze a paying buyer again.
// 24 hours covers the documented retry periods many times over, and also an
// eight-hour time-zone mix-up (the kit's timeStamp is GMT+8, the basic
// interface's UTC), while bounding how long a leaked URL stays usable.
const DefaultV1Window = 24 * time.Hour

// SetV1Window sets the V1 freshness window: zero or negative means no
// check, unlike the zero V1Window field, which selects DefaultV1Window.
func (c *Config) SetV1Window(d time.Duration) {
	if d <= 0 {
		d = -1
	}
	c.V1Window = d
}

// gmt8 is the zone of the kit's timeStamp and currentSyncTime (§7, §10.9).
var gmt8 = time.FixedZone("GMT+8", 8*60*60)

// GMT8 returns the GMT+8 zone the joint-operation kit's times are written in.
func GMT8() *time.Location { return gmt8 }

// Canonical forms of the V1 header names, so that lookups do not allocate.
const (
	headerAuthToken = "Authtoken" // http.CanonicalHeaderKey(v1sign.HeaderAuthToken)
	headerBodySign  = "Body-Sign"
)

func (h *Handler) verifyV1Query(method, raw string, st *state) error {
	if method != http.MethodGet {
		return Invalid("method must be GET")
	}
	if int64(len(raw)) > h.maxBody {
		return Invalid("request query too large")
	}
	q, err := v1sign.ParseQuery(raw)
	if err != nil {
		return &refusal{reason: "malformed query"}
	}
	if err := q.Verify(h.v1key); err != nil {
		return &refusal{reason: v1Reason(err)}
	}
	if err := h.v1Fresh(q.Get(v1sign.ParamTimeStamp), time.UTC); err != nil {
		return err
	}
	// Serve gets the query written so that a form decoder reads the values
	// the authToken covered (v1sign.Query.FormQuery).
	form := q.FormQuery()
	box := getBody(len(form))
	*box = append(*box, form...)
	st.box, st.body = box, *box
	st.resp.V1Query = q
	return nil
}

func (h *Handler) verifyV1Kit(method string, header http.Header, r *http.Request, st *state) error {
	if method != http.MethodPost {
		return Invalid("method must be POST")
	}
	if err := h.body(r, st); err != nil {
		return err
	}
	body := st.body
	token := first(header[headerAuthToken])
	if token == "" {
		return &refusal{reason: "missing authToken"}
	}
	if err := v1sign.VerifyKit(h.v1key, body, token); err != nil {
		return &refusal{reason: v1Reason(err)}
	}
	return h.v1Fresh(kitTimeStamp(body), gmt8)
}

// v1Fresh checks a V1 timeStamp (yyyyMMddHHmmss[SSS] in loc) against the
// window; with no window any value passes, even an unreadable one.
func (h *Handler) v1Fresh(ts string, loc *time.Location) error {
	if h.v1window == 0 {
		return nil
	}
	t, err := TimeIn(ts, loc)
	if err != nil {
		return &refusal{reason: "malformed timeStamp"}
	}
	limit := h.v1window + h.skew
	if d := t.Sub(h.now()); d > limit || d < -limit {
		return &refusal{reason: "timeStamp outside the V1 freshness window", offset: d}
	}
	return nil
}

// kitTimeStamp returns the timeStamp member of a verified kit body, which
// VerifyKit has already found to be a JSON object.
func kitTimeStamp(body []byte) string {
	var ts string
	_ = canonjson.Scan(body, func(name, value []byte) error {
		if string(name) == v1sign.ParamTimeStamp {
			ts, _ = Scalar(value) // a later duplicate wins, as in the signed form
		}
		return nil
	})
	return ts
}

// v1Reason names a v1sign verification failure for the log; it never
// includes the token or the MAC.
func v1Reason(err error) string {
	switch {
	case errors.Is(err, v1sign.ErrMissingToken):
		return "missing authToken"
	case errors.Is(err, v1sign.ErrMissingTimeStamp):
		return "missing timeStamp"
	case errors.Is(err, v1sign.ErrMismatch):
		return "authToken mismatch"
	}
	return "malformed request"
}

// TimeIn is Time for a wall-clock time written in loc; the result is in
// UTC. The yyyyMMdd'T'HHmmss'Z' form names its own zone and stays UTC.
func TimeIn(s string, loc *time.Location) (time.Time, error) {
	t, err := Time(s)
	if err != nil || loc == time.UTC || len(s) == 16 {
		return t, err
	}
	return time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), loc).UTC(), nil
}

// doneGuardKeep is how long the V1 replay guard remembers successes when
// the V1 window is off.
const doneGuardKeep = 24 * time.Hour

// DoneKeep is how long the V1 and kit handlers remember a call that
// succeeded: for as long as the V1 window and the skew allowance accept it
// (after that it is refused anyway), plus a minute; 24 hours without a
// window.
func (c *Config) DoneKeep() time.Duration {
	w := c.V1Window
	if w < 0 {
		return doneGuardKeep
	}
	if w == 0 {
		w = DefaultV1Window
	}
	skew := c.Skew
	if skew == 0 {
		skew = DefaultSkew
	}
	return w + max(skew, 0) + time.Minute
}

// ReplaySize is the configured bound of the in-memory replay protection.
func (c *Config) ReplaySize() int {
	if c.ReplayCacheSize <= 0 {
		return DefaultReplayCacheSize
	}
	return c.ReplayCacheSize
}
