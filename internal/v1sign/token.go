package v1sign

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
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
// tokens use Key + timeStamp, Body-Sign the plain Key).
func sum(keyPrefix, keySuffix string, msg []byte) [macSize]byte {
	k := make([]byte, 0, len(keyPrefix)+len(keySuffix))
	k = append(append(k, keyPrefix...), keySuffix...)
	h := hmac.New(sha256.New, k)
	clear(k) // hmac keeps its own padded copy
	h.Write(msg)
	var out [macSize]byte
	h.Sum(out[:0])
	return out
}

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
// bytes in constant time. It reads ' ' as '+' (a token that crossed a query
// string un-encoded) and accepts a token without its '=' padding.
func tokenMatches(mac *[macSize]byte, token string) bool {
	var b [tokenLen]byte
	if len(token) > len(b) {
		return false
	}
	n := copy(b[:], token)
	for i := range n {
		if b[i] == ' ' {
			b[i] = '+'
		}
	}
	enc := base64.StdEncoding
	if n%4 != 0 {
		enc = base64.RawStdEncoding
	}
	var got [macSize + 1]byte // DecodedLen(tokenLen) is 33
	m, err := enc.Decode(got[:], b[:n])
	if err != nil || m != macSize {
		return false
	}
	return hmac.Equal(got[:macSize], mac[:])
}
