package callback

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"log/slog"
	"sync"

	"github.com/isvkit/koogallery/internal/canonjson"
)

// Key is an access key ready to sign and verify V2-style callbacks. It is
// safe for concurrent use and reuses its HMAC state between calls. Printing
// or logging a Key never reveals the secret.
type Key struct {
	secret []byte
	states sync.Pool // *macState
}

type macState struct {
	mac    hash.Hash
	secret []byte
	buf    []byte    // scratch for the signed string
	mac2   hash.Hash // a second MAC, to build two forms in one pass
	chunk  []byte    // scratch for streaming a form into mac
	chunk2 []byte
	obj    canonjson.Object
	sum    [sha256.Size]byte
}

// NewKey prepares accessKey, used as its UTF-8 bytes (KooGallery's V2
// signature page, zh-cn_topic_0070649476).
func NewKey(accessKey string) *Key {
	k := &Key{secret: []byte(accessKey)}
	k.states.New = func() any {
		return &macState{mac: hmac.New(sha256.New, k.secret), mac2: hmac.New(sha256.New, k.secret), secret: k.secret, buf: make([]byte, 0, 256)}
	}
	return k
}

// String returns a placeholder: the secret is never printed.
func (k *Key) String() string { return "[REDACTED]" }

// LogValue keeps the secret out of slog output.
func (k *Key) LogValue() slog.Value { return slog.StringValue("[REDACTED]") }

func (k *Key) get() *macState { return k.states.Get().(*macState) }

func (k *Key) put(s *macState) {
	if cap(s.buf) <= 64<<10 && cap(s.chunk) <= 64<<10 && cap(s.chunk2) <= 64<<10 {
		s.obj.Release()
		k.states.Put(s)
	}
}

// SignV2 returns the SaaS V2 / License 2.0 / orderNotify signature of
// payload in upper-case hex, as KooGallery sends it (KooGallery's V2
// signature page, zh-cn_topic_0070649476; License 2.0:
// zh-cn_topic_0070649248; orderNotify: zh-cn_topic_0000002055600456):
//
//	inner     = lowerhex(HMAC(accessKey, payload))
//	signature = HEX(HMAC(accessKey, accessKey + nonce + timestamp + inner))
//
// payload is the canonical form of the body (see canonjson.Append).
func (k *Key) SignV2(nonce, timestamp string, payload []byte) string {
	s := k.get()
	defer k.put(s)
	return upperHex(s.v2(nonce, timestamp, payload))
}

// SignKit returns the joint-operation kit V2 x-sign of payload in
// lower-case hex (KooGallery's 联营kit接口HTTP Body签名, on page
// zh-cn_topic_0070649476):
//
//	x-sign = HEX(HMAC(accessKey, accessKey + nonce + timestamp + payload))
//
// payload is the canonical form of the body (see canonjson.Append).
func (k *Key) SignKit(nonce, timestamp string, payload []byte) string {
	s := k.get()
	defer k.put(s)
	return hex.EncodeToString(s.kit(nonce, timestamp, payload))
}

// VerifyV2 reports whether signature (hex, either case) is the V2 signature
// of one of the forms the body may have been signed over, tried in this
// order: the bytes as received (KooGallery's bodies normally arrive signed
// this way, as Huawei's Java demo, IsvProduceAPI.verifySignature, canonicalises with Jackson, so the one cheap check is the one that matches); the
// Jackson form Huawei's demo signs (canonjson.BasicForm: sorted, null members
// dropped, strings re-escaped, scalars quoted); the canonical form (values as
// received); the canonical form with top-level scalars quoted. A form equal
// to one already tried is skipped, and nothing but the raw bytes is tried
// for a body that is not a JSON object of at most canonjson.MaxMembers
// members. The comparison is constant-time.
func (k *Key) VerifyV2(signature, nonce, timestamp string, body []byte) bool {
	var want [sha256.Size]byte
	if !decodeHex32(&want, signature) {
		return false
	}
	s := k.get()
	defer k.put(s)
	if hmac.Equal(s.v2(nonce, timestamp, body), want[:]) {
		return true
	}
	o := &s.obj
	if o.Parse(body) != nil {
		return false
	}
	raw, bare, jackson := o.CanonicalIsRaw(), o.HasBareScalars(), o.JacksonIsCanonical(canonjson.BasicForm)
	// jackson: the Jackson form is the quoted one; !bare: the quoted form is
	// the canonical one; raw: the canonical form is the raw bytes.
	if !(jackson && !bare && raw) {
		s.mac.Reset()
		var err error
		s.chunk, err = o.WriteJackson(s.mac, s.chunk, canonjson.BasicForm)
		if err == nil && hmac.Equal(s.v2Outer(nonce, timestamp), want[:]) {
			return true
		}
	}
	if !raw && !(jackson && !bare) {
		s.mac.Reset()
		s.chunk = o.WriteCanonical(s.mac, s.chunk)
		if hmac.Equal(s.v2Outer(nonce, timestamp), want[:]) {
			return true
		}
	}
	if bare && !jackson {
		s.mac.Reset()
		s.chunk = o.WriteQuotedScalars(s.mac, s.chunk)
		if hmac.Equal(s.v2Outer(nonce, timestamp), want[:]) {
			return true
		}
	}
	return false
}

// VerifyKit reports whether signature (hex, either case) is the kit x-sign
// of the body as received, of its Jackson form (canonjson.KitForm, what
// Huawei's demo signs) or of its canonical form, tried in that order, a form
// equal to one already tried skipped. The raw bytes come first so that a
// forged call costs one HMAC before any parsing; kit bodies usually arrive
// unsorted and spaced, so a genuine one is usually matched by the second.
func (k *Key) VerifyKit(signature, nonce, timestamp string, body []byte) bool {
	var want [sha256.Size]byte
	if !decodeHex32(&want, signature) {
		return false
	}
	s := k.get()
	defer k.put(s)
	if hmac.Equal(s.kit(nonce, timestamp, body), want[:]) {
		return true
	}
	o := &s.obj
	if o.Parse(body) != nil {
		return false
	}
	raw, jackson := o.CanonicalIsRaw(), o.JacksonIsCanonical(canonjson.KitForm)
	if !raw && !jackson && o.SameOrder() {
		// Both forms differ from the raw bytes and from each other: build
		// them in one pass over the values, each into its own MAC.
		s.kitStart(nonce, timestamp)
		s.kitStart2(nonce, timestamp)
		var err error
		s.chunk, s.chunk2, err = o.WriteCanonicalAndJackson(s.mac2, s.mac, s.chunk, s.chunk2)
		if err == nil {
			return hmac.Equal(s.mac.Sum(s.sum[:0]), want[:]) || hmac.Equal(s.mac2.Sum(s.sum[:0]), want[:])
		}
		// No Jackson form: the canonical one alone, below.
		s.kitStart(nonce, timestamp)
		s.chunk = o.WriteCanonical(s.mac, s.chunk)
		return hmac.Equal(s.mac.Sum(s.sum[:0]), want[:])
	}
	if !(jackson && raw) {
		s.kitStart(nonce, timestamp)
		var err error
		s.chunk, err = o.WriteJackson(s.mac, s.chunk, canonjson.KitForm)
		if err == nil && hmac.Equal(s.mac.Sum(s.sum[:0]), want[:]) {
			return true
		}
	}
	if !raw && !jackson {
		s.kitStart(nonce, timestamp)
		s.chunk = o.WriteCanonical(s.mac, s.chunk)
		if hmac.Equal(s.mac.Sum(s.sum[:0]), want[:]) {
			return true
		}
	}
	return false
}

// v2 returns the two-stage V2 signature, valid until the next use of s.
// payload must not alias s.buf.
func (s *macState) v2(nonce, timestamp string, payload []byte) []byte {
	s.mac.Reset()
	s.mac.Write(payload)
	return s.v2Outer(nonce, timestamp)
}

// v2Outer finishes the V2 signature of the payload written to s.mac since
// its last Reset.
func (s *macState) v2Outer(nonce, timestamp string) []byte {
	inner := s.mac.Sum(s.sum[:0])
	var innerHex [2 * sha256.Size]byte
	hex.Encode(innerHex[:], inner)

	s.mac.Reset()
	b := append(s.buf[:0], s.secret...)
	b = append(b, nonce...)
	b = append(b, timestamp...)
	b = append(b, innerHex[:]...)
	s.buf = b
	s.mac.Write(b)
	return s.mac.Sum(s.sum[:0])
}

// kit returns the one-stage kit x-sign, valid until the next use of s.
// payload must not alias s.buf.
func (s *macState) kit(nonce, timestamp string, payload []byte) []byte {
	s.kitStart(nonce, timestamp)
	s.mac.Write(payload)
	return s.mac.Sum(s.sum[:0])
}

// kitStart2 is kitStart for s.mac2.
func (s *macState) kitStart2(nonce, timestamp string) {
	s.mac2.Reset()
	s.mac2.Write(s.secret)
	b := append(s.buf[:0], nonce...)
	b = append(b, timestamp...)
	s.buf = b
	s.mac2.Write(b)
}

// kitStart resets s.mac to take the payload of a kit x-sign.
func (s *macState) kitStart(nonce, timestamp string) {
	s.mac.Reset()
	s.mac.Write(s.secret)
	// Writing the short strings through the scratch buffer keeps the
	// string-to-[]byte conversions off the heap.
	b := append(s.buf[:0], nonce...)
	b = append(b, timestamp...)
	s.buf = b
	s.mac.Write(b)
}

func upperHex(b []byte) string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&0x0F]
	}
	return string(out)
}

// decodeHex32 decodes 64 hex digits of either case into dst without
// allocating. It is not constant-time, and need not be: the signature it
// decodes is the caller's, the comparison with the secret-derived value is.
func decodeHex32(dst *[sha256.Size]byte, s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	var bad byte
	for i := range dst {
		hi, lo := unhex[s[2*i]], unhex[s[2*i+1]]
		bad |= hi | lo
		dst[i] = hi<<4 | lo&0x0F
	}
	return bad&0x80 == 0
}

// unhex maps a hex digit of either case to its value and every other byte
// to 0x80.
var unhex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0x80
	}
	for c := byte('0'); c <= '9'; c++ {
		t[c] = c - '0'
	}
	for c := byte('a'); c <= 'f'; c++ {
		t[c], t[c-'a'+'A'] = c-'a'+10, c-'a'+10
	}
	return t
}()
