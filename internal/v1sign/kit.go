package v1sign

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"hash"
	"io"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/isvkit/koogallery/internal/canonjson"
)

// HeaderAuthToken is the request header that carries a V1 kit authToken.
const HeaderAuthToken = "authToken"

// KitStringToSign returns the string a V1 kit authToken signs for a JSON body
// (KooGallery's V1 kit authToken page, zh-cn_topic_0070649135). Huawei's demo
// binds the body to a DTO, turns it into a map with BeanUtils.describe and
// skips blank values, so each top-level field becomes name=value, sorted in
// Java String order and joined with '&':
//
//   - a string is used verbatim (JSON-string fields such as userList and
//     orgInfo included) and skipped if blank in the sense of Java's
//     StringUtils.isBlank (empty or only Character.isWhitespace);
//   - a number or boolean is its JSON literal as received ("flag":1 → flag=1);
//   - null is skipped;
//   - an array or object (V2-style userList or orgInfoList arriving on V1) is
//     its compact JSON text with members in received order. Undocumented: the demo's
//     String-typed DTO cannot even bind such a value, so this is the most
//     plausible reading, not a verified one.
//
// A repeated name keeps its last value, as Jackson does. Values are not
// URL-decoded: in a JSON body that would corrupt a literal '+' or '%'. It is
// exposed for debugging signature mismatches; it contains no secret.
func KitStringToSign(body []byte) (string, error) {
	var b bytes.Buffer
	if _, err := writeKitString(&b, body, nil); err != nil {
		return "", fmt.Errorf("v1sign: kit string to sign: %w", err)
	}
	return b.String(), nil
}

// SignKit returns the authToken header KooGallery sends with a V1 kit body:
// Base64(HMAC-SHA256(Key + the body's timeStamp, KitStringToSign(body))).
func SignKit(key string, body []byte) (string, error) {
	mac, err := kitMAC(key, body)
	if err != nil {
		return "", fmt.Errorf("v1sign: sign kit body: %w", err)
	}
	return encodeToken(&mac), nil
}

// VerifyKit checks the authToken header of a V1 kit body, in constant time.
// A ' ' in token is read as '+'. A body that is not a JSON object of at
// most canonjson.MaxMembers members is refused (KooGallery's have about
// ten): sorting is the step whose cost grows fastest with the body.
func VerifyKit(key string, body []byte, token string) error {
	if token == "" {
		return fmt.Errorf("v1sign: verify kit body: %w", ErrMissingToken)
	}
	mac, err := kitMAC(key, body)
	if err != nil {
		return fmt.Errorf("v1sign: verify kit body: %w", err)
	}
	if !tokenMatches(&mac, token) {
		return fmt.Errorf("v1sign: verify kit body authToken: %w", ErrMismatch)
	}
	return nil
}

var objects = sync.Pool{New: func() any { return new(kitState) }}

type kitState struct {
	o       canonjson.Object
	scratch []byte
	chunk   []byte
}

func kitMAC(key string, body []byte) ([macSize]byte, error) {
	var mac [macSize]byte
	var h hash.Hash
	_, err := writeKitString(nil, body, func(ts []byte) io.Writer {
		k := make([]byte, 0, len(key)+len(ts))
		k = append(append(k, key...), ts...)
		h = hmac.New(sha256.New, k)
		clear(k)
		return h
	})
	if err != nil {
		return mac, err
	}
	h.Sum(mac[:0])
	return mac, nil
}

// writeKitString writes the string a V1 kit authToken signs for body (see
// KitStringToSign) to w, or, if w is nil, to the writer keyed returns for
// the body's timeStamp. It reports the timeStamp.
func writeKitString(w io.Writer, body []byte, keyed func(timeStamp []byte) io.Writer) (string, error) {
	st := objects.Get().(*kitState)
	defer func() {
		st.o.Release()
		if cap(st.scratch) <= 64<<10 && cap(st.chunk) <= 64<<10 {
			objects.Put(st)
		}
	}()
	o := &st.o
	if err := o.Parse(body); err != nil {
		return "", fmt.Errorf("%w: kit body is not a JSON object of at most %d members: %w", ErrMalformed, canonjson.MaxMembers, err)
	}
	order := o.SortedJava()
	// The key needs the timeStamp first; a blank one is skipped like any
	// blank value, and then missing.
	var ts []byte
	for _, i := range order {
		if m := &o.Members[i]; string(m.Key) == ParamTimeStamp {
			if v, ok := st.describe(m); ok {
				ts = append([]byte(nil), v...)
			}
		}
	}
	if w == nil {
		if ts == nil {
			return "", ErrMissingTimeStamp
		}
		w = keyed(ts)
	}
	out := st.chunk[:0]
	first := true
	for _, i := range order {
		m := &o.Members[i]
		if string(m.Key) == ParamAuthToken {
			continue
		}
		v, ok := st.describe(m)
		if !ok {
			continue
		}
		if !first {
			out = append(out, '&')
		}
		first = false
		out = append(append(out, m.Key...), '=')
		if len(v) >= 4<<10 {
			w.Write(out)
			w.Write(v)
			out = out[:0]
			continue
		}
		out = append(out, v...)
		if len(out) >= 4<<10 {
			w.Write(out)
			out = out[:0]
		}
	}
	w.Write(out)
	st.chunk = out
	return string(ts), nil
}

// describe returns a member's value stringified like BeanUtils.describe on
// the demo's DTO (see KitStringToSign), valid until the next call; ok is
// false for a value the demo skips as blank.
func (st *kitState) describe(m *canonjson.Member) ([]byte, bool) {
	v := m.Value
	switch v[0] {
	case 'n':
		return nil, false
	case '"':
		st.scratch = canonjson.Unquote(st.scratch[:0], v)
		return st.scratch, !javaBlank(st.scratch)
	case '{', '[':
		st.scratch = canonjson.AppendCompact(st.scratch[:0], v)
		return st.scratch, true
	}
	return v, true
}

// KitCovers reports whether a V1 kit authToken covers a top-level member
// whose JSON value (as received) is value: every member but null and blank
// strings, which the token skips (see KitStringToSign). A member the token
// does not cover was never signed: a decoder must treat it as absent, so
// that adding "name":" " or "list":null to a signed body changes nothing.
// For a repeated member only the last one counts, covered or not.
func KitCovers(value []byte) bool {
	switch {
	case len(value) == 0, value[0] == 'n':
		return false
	case value[0] == '"':
		return !javaBlank(canonjson.Unquote(nil, value))
	}
	return true
}

// javaBlank is commons-lang StringUtils.isBlank: every UTF-16 unit is
// Character.isWhitespace, which is a Unicode space separator other than the
// no-break spaces, or one of \t \n \v \f \r and U+001C–U+001F.
func javaBlank[S ~string | ~[]byte](s S) bool {
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			var b [utf8.UTFMax]byte
			r, size = utf8.DecodeRune(b[:copy(b[:], s[i:])])
		}
		i += size
		switch {
		case r == '\u00A0' || r == '\u2007' || r == '\u202F':
			return false
		case r >= '\t' && r <= '\r', r >= 0x1C && r <= 0x1F:
		case unicode.In(r, unicode.Zs, unicode.Zl, unicode.Zp):
		default:
			return false
		}
	}
	return true
}
