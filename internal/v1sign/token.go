package v1sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"sync"
)

var (
	// ErrMissingToken reports a request without an authToken.
	ErrMissingToken = errors.New("missing authToken")
	// ErrMissingTimeStamp reports a request without the timeStamp that is
	// part of the HMAC key.
	ErrMissingTimeStamp = errors.New("missing timeStamp")
	// ErrMismatch reports a token or signature that does not match the
	// message: changed bytes or the wrong Key.
	ErrMismatch = errors.New("signature mismatch")
	// ErrMalformed reports input that cannot be read at all: a bad escape in a
	// query, a body that is not a JSON object, an unparsable header.
	ErrMalformed = errors.New("malformed input")
)

// macSize is the length of an HMAC-SHA256.
const macSize = sha256.Size

// tokenLen is the length of a padded standard Base64 HMAC-SHA256.
const tokenLen = 44 // base64.StdEncoding.EncodedLen(macSize)

// sum returns HMAC-SHA256 over msg keyed with keyPrefix‖keySuffix (the V1
// tokens use Key + timeStamp, Body-Sign the plain Key). The key changes with
// every timeStamp, so no keyed HMAC state can be kept; sum computes the HMAC
// of RFC 2104 itself over a pooled SHA-256 state instead of allocating
// crypto/hmac's (TestSumIsHMAC checks it against crypto/hmac).
func sum(keyPrefix, keySuffix string, msg []byte) [macSize]byte {
	st := sumPool.Get().(*sumState)
	defer sumPool.Put(st)
	pad := &st.pad
	clear(pad[:])
	if n := len(keyPrefix) + len(keySuffix); n > sha256.BlockSize {
		st.h.Reset()
		st.h.Write([]byte(keyPrefix))
		st.h.Write([]byte(keySuffix))
		st.h.Sum(pad[:0])
	} else {
		copy(pad[copy(pad[:], keyPrefix):], keySuffix)
	}
	for i := range pad {
		pad[i] ^= 0x36
	}
	st.h.Reset()
	st.h.Write(pad[:])
	st.h.Write(msg)
	var inner, out [macSize]byte
	st.h.Sum(inner[:0])
	for i := range pad {
		pad[i] ^= 0x36 ^ 0x5c
	}
	st.h.Reset()
	st.h.Write(pad[:])
	st.h.Write(inner[:])
	st.h.Sum(out[:0])
	clear(pad[:]) // the padded key does not stay in the pooled scratch
	return out
}

// sumState is sum's pooled scratch: a SHA-256 state and the padded key.
type sumState struct {
	h   hash.Hash
	pad [sha256.BlockSize]byte
}

var sumPool = sync.Pool{New: func() any { return &sumState{h: sha256.New()} }}

// encodeToken returns the standard Base64 form of a MAC.
func encodeToken(mac *[macSize]byte) string {
	var b [tokenLen]byte
	encodeTokenTo(b[:], mac)
	return string(b[:])
}

// encodeTokenTo writes the standard Base64 form of a MAC to dst[:tokenLen].
func encodeTokenTo(dst []byte, mac *[macSize]byte) {
	base64.StdEncoding.Encode(dst, mac[:])
}

// tokenMatches reports whether token is the Base64 of mac, comparing the MAC
// bytes in constant time. It reads token as TokenMAC does.
func tokenMatches(mac *[macSize]byte, token string) bool {
	got, ok := TokenMAC(token)
	return ok && hmac.Equal(got[:], mac[:])
}

var (
	strictStd = base64.StdEncoding.Strict()
	strictRaw = base64.RawStdEncoding.Strict()
)

// TokenMAC decodes a token (an authToken, or a Body-Sign signature) to the
// MAC it carries, reading it as the verifiers do: a ' ' is a '+' (a token
// that crossed a query string un-encoded) and the '=' padding may be
// missing. ok is false unless it is the Base64 of exactly 32 bytes.
//
// The last character's two unused bits must be zero, as every encoder
// writes them (strict decoding): otherwise four spellings would carry one
// MAC, and a token with a changed byte would still verify. Spellings still
// differ in padding and '+' or ' ', so a verified request is identified by
// its MAC, never by the token's text.
func TokenMAC(token string) (mac [macSize]byte, ok bool) {
	var b [tokenLen]byte
	if len(token) > len(b) {
		return mac, false
	}
	n := copy(b[:], token)
	for i := range n {
		if b[i] == ' ' {
			b[i] = '+'
		}
	}
	enc := strictStd
	if n%4 != 0 {
		enc = strictRaw
	}
	var got [macSize + 1]byte // DecodedLen(tokenLen) is 33
	m, err := enc.Decode(got[:], b[:n])
	if err != nil || m != macSize {
		return mac, false
	}
	copy(mac[:], got[:macSize])
	return mac, true
}
