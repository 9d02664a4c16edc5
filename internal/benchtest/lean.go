package benchtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"hash"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The lean verifiers are the floor each handler is measured against: what
// a careful engineer writes by hand for one scheme, with none of the
// handler's protections beyond the signature and the window. They read
// what the scheme signs without maps where they can, the body into a
// pooled buffer, reuse pooled HMAC states where the key is fixed, check the
// timestamp against the clock, compare in constant time, decode with
// encoding/json and write the answer: no replay cache, no at-most-once, no
// canonical forms (the calls arrive canonical), no logging.

// Answer decodes a verified JSON body with encoding/json and appends the
// answer to dst; an error answers 000002.
type Answer func(dst, body []byte) ([]byte, error)

// V1Answer is Answer for the SaaS V1 basic interface, whose parameters are
// the decoded query: get returns one by name.
type V1Answer func(dst []byte, get func(name string) string) []byte

const (
	maxBody = 64 << 10
	// window is KooGallery's 60 s plus a few seconds of skew.
	window = 65_000
	// v1Window is the V1 handlers' default: 24 hours.
	v1Window = 24 * time.Hour
)

var (
	forged = []byte(`{"resultCode":"000001","resultMsg":"forged"}`)
	stale  = []byte(`{"resultCode":"000001","resultMsg":"stale"}`)
	bad    = []byte(`{"resultCode":"000002","resultMsg":"bad"}`)
)

type state struct {
	mac  hash.Hash // keyed with the fixed key
	body []byte
	buf  []byte
	sig  [sha256.Size]byte
}

func newPool(key string) *sync.Pool {
	return &sync.Pool{New: func() any {
		return &state{mac: hmac.New(sha256.New, []byte(key)), body: make([]byte, 0, 4096), buf: make([]byte, 0, 256)}
	}}
}

// readBody reads at most maxBody bytes of r's body into st.body.
func (st *state) readBody(r *http.Request) []byte {
	body := st.body[:0]
	for len(body) < maxBody {
		if len(body) == cap(body) {
			body = append(body, 0)[:len(body)]
		}
		n, err := r.Body.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if err != nil {
			break
		}
	}
	st.body = body
	return body
}

// fresh reports whether a Unix-millisecond timestamp is inside the window.
func fresh(ts string) bool {
	stamp, err := strconv.ParseInt(ts, 10, 64)
	d := time.Now().UnixMilli() - stamp
	return err == nil && d <= window && d >= -window
}

// hexMAC decodes a 64-digit hex signature into st.sig.
func (st *state) hexMAC(sig string) bool {
	if len(sig) != 2*sha256.Size {
		return false
	}
	_, err := hex.Decode(st.sig[:], append(st.buf[:0], sig...))
	return err == nil
}

func writeJSON(w http.ResponseWriter, answer []byte) {
	w.Header()["Content-Type"] = jsonContentType
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(answer)
}

// LeanV2 verifies the V2 scheme of the SaaS V2 basic interface, License 2.0
// and order notification: signature, timestamp and nonce in the query,
// HEX(HMAC(key, key+nonce+timestamp+HEX(HMAC(key, body)))).
func LeanV2(key string, answer Answer) http.HandlerFunc {
	return leanHex(key, answer, func(r *http.Request) (sig, ts, nonce string) {
		for q := r.URL.RawQuery; q != ""; {
			var kv string
			kv, q, _ = strings.Cut(q, "&")
			switch k, v, _ := strings.Cut(kv, "="); k {
			case "signature":
				sig = v
			case "timestamp":
				ts = v
			case "nonce":
				nonce = v
			}
		}
		return sig, ts, nonce
	}, func(st *state, nonce, ts string, body []byte) {
		var sum [sha256.Size]byte
		var inner [2 * sha256.Size]byte
		st.mac.Reset()
		st.mac.Write(body)
		hex.Encode(inner[:], st.mac.Sum(sum[:0]))
		st.buf = append(append(append(append(st.buf[:0], key...), nonce...), ts...), inner[:]...)
		st.mac.Reset()
		st.mac.Write(st.buf)
	})
}

// LeanKitV2 verifies the joint-operation kit V2 scheme: x-sign, x-timestamp
// and x-nonce headers, HEX(HMAC(key, key+nonce+timestamp+body)).
func LeanKitV2(key string, answer Answer) http.HandlerFunc {
	return leanHex(key, answer, func(r *http.Request) (sig, ts, nonce string) {
		return r.Header.Get("X-Sign"), r.Header.Get("X-Timestamp"), r.Header.Get("X-Nonce")
	}, func(st *state, nonce, ts string, body []byte) {
		st.mac.Reset()
		st.mac.Write([]byte(key))
		st.mac.Write([]byte(nonce))
		st.mac.Write([]byte(ts))
		st.mac.Write(body)
	})
}

// leanHex is a lean verifier of a scheme with a hex HMAC-SHA256 signature
// and a Unix-millisecond timestamp: read returns them and the nonce, and
// mac leaves st.mac holding the message the signature signs.
func leanHex(key string, answer Answer, read func(*http.Request) (sig, ts, nonce string), mac func(st *state, nonce, ts string, body []byte)) http.HandlerFunc {
	pool := newPool(key)
	return func(w http.ResponseWriter, r *http.Request) {
		sig, ts, nonce := read(r)
		st := pool.Get().(*state)
		defer pool.Put(st)
		body := st.readBody(r)
		if !fresh(ts) {
			writeJSON(w, stale)
			return
		}
		if !st.hexMAC(sig) {
			writeJSON(w, forged)
			return
		}
		var sum [sha256.Size]byte
		mac(st, nonce, ts, body)
		if !hmac.Equal(st.mac.Sum(sum[:0]), st.sig[:]) {
			writeJSON(w, forged)
			return
		}
		a, err := answer(st.buf[:0], body)
		st.buf = a
		if err != nil {
			a = bad
		}
		writeJSON(w, a)
	}
}

// v1Token decodes a V1 authToken (a ' ' is a '+' that crossed a query
// string un-encoded) into st.sig.
func (st *state) v1Token(token string) bool {
	b := append(st.buf[:0], token...)
	for i, c := range b {
		if c == ' ' {
			b[i] = '+'
		}
	}
	st.buf = b
	n, err := base64.StdEncoding.Decode(st.sig[:], b)
	return err == nil && n == sha256.Size && len(b) == 44
}

// v1MAC returns HMAC(key+timeStamp, msg): the V1 key changes with every
// call, so this HMAC cannot be pooled.
func v1MAC(key, timeStamp string, msg []byte) [sha256.Size]byte {
	m := hmac.New(sha256.New, []byte(key+timeStamp))
	m.Write(msg)
	var sum [sha256.Size]byte
	m.Sum(sum[:0])
	return sum
}

// v1Fresh reports whether a yyyyMMddHHmmssSSS timeStamp in loc is inside
// the V1 window.
func v1Fresh(ts string, loc *time.Location) bool {
	if len(ts) != 17 {
		return false
	}
	t, err := time.ParseInLocation("20060102150405", ts[:14], loc)
	d := time.Since(t)
	return err == nil && d <= v1Window && d >= -v1Window
}

// writeV1 writes a V1 answer with its Body-Sign header:
// Base64(HMAC(key, answer)).
func (st *state) writeV1(w http.ResponseWriter, answer []byte) {
	var sum [sha256.Size]byte
	var sig [44]byte
	st.mac.Reset()
	st.mac.Write(answer)
	base64.StdEncoding.Encode(sig[:], st.mac.Sum(sum[:0]))
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Body-Sign"] = []string{`sign_type="HMAC-SHA256", signature="` + string(sig[:]) + `"`}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(answer)
}

// LeanV1Query verifies the SaaS V1 basic interface: a GET whose authToken
// is Base64(HMAC(key+timeStamp, the other parameters decoded, sorted and
// joined as name=value with '&')), timeStamp in UTC; the answer carries
// Body-Sign.
func LeanV1Query(key string, answer V1Answer) http.HandlerFunc {
	pool := newPool(key)
	type param struct{ k, v string }
	return func(w http.ResponseWriter, r *http.Request) {
		st := pool.Get().(*state)
		defer pool.Put(st)
		var ps [32]param
		params := ps[:0]
		var token, ts string
		for q := r.URL.RawQuery; q != ""; {
			var kv string
			kv, q, _ = strings.Cut(q, "&")
			k, v, _ := strings.Cut(kv, "=")
			v, err := url.QueryUnescape(v)
			if err != nil {
				st.writeV1(w, bad)
				return
			}
			switch k {
			case "authToken":
				token = v
				continue
			case "timeStamp":
				ts = v
			}
			params = append(params, param{k, v})
		}
		if !v1Fresh(ts, time.UTC) {
			st.writeV1(w, stale)
			return
		}
		if !st.v1Token(token) {
			st.writeV1(w, forged)
			return
		}
		slices.SortFunc(params, func(a, b param) int { return strings.Compare(a.k, b.k) })
		msg := st.body[:0]
		for i, p := range params {
			if i > 0 {
				msg = append(msg, '&')
			}
			msg = append(append(append(msg, p.k...), '='), p.v...)
		}
		st.body = msg
		if sum := v1MAC(key, ts, msg); !hmac.Equal(sum[:], st.sig[:]) {
			st.writeV1(w, forged)
			return
		}
		get := func(name string) string {
			for _, p := range params {
				if p.k == name {
					return p.v
				}
			}
			return ""
		}
		st.buf = answer(st.buf[:0], get)
		st.writeV1(w, st.buf)
	}
}

var gmt8 = time.FixedZone("GMT+8", 8*60*60)

// LeanV1Kit verifies the joint-operation kit V1 scheme: an authToken header
// Base64(HMAC(key+timeStamp, the body's top-level members sorted and joined
// as name=value with '&', strings unquoted, blank and null ones skipped)),
// timeStamp a body member in GMT+8; the answer carries Body-Sign.
func LeanV1Kit(key string, answer Answer) http.HandlerFunc {
	pool := newPool(key)
	return func(w http.ResponseWriter, r *http.Request) {
		token := r.Header.Get("AuthToken")
		st := pool.Get().(*state)
		defer pool.Put(st)
		body := st.readBody(r)
		var members map[string]json.RawMessage
		if json.Unmarshal(body, &members) != nil {
			st.writeV1(w, bad)
			return
		}
		var ts string
		_ = json.Unmarshal(members["timeStamp"], &ts)
		if !v1Fresh(ts, gmt8) {
			st.writeV1(w, stale)
			return
		}
		if !st.v1Token(token) {
			st.writeV1(w, forged)
			return
		}
		names := make([]string, 0, len(members))
		for k := range members {
			names = append(names, k)
		}
		slices.Sort(names)
		msg := st.buf[:0]
		for _, k := range names {
			v := members[k]
			if v[0] == '"' {
				var s string
				if json.Unmarshal(v, &s) != nil {
					st.writeV1(w, bad)
					return
				}
				if strings.TrimSpace(s) == "" {
					continue
				}
				v = json.RawMessage(s)
			} else if string(v) == "null" {
				continue
			}
			if len(msg) > 0 {
				msg = append(msg, '&')
			}
			msg = append(append(append(msg, k...), '='), v...)
		}
		st.buf = msg
		if sum := v1MAC(key, ts, msg); !hmac.Equal(sum[:], st.sig[:]) {
			st.writeV1(w, forged)
			return
		}
		a, err := answer(st.buf[:0], body)
		st.buf = a
		if err != nil {
			a = bad
		}
		st.writeV1(w, a)
	}
}
