package v1sign

import (
	"fmt"
	"strings"
)

// HeaderBodySign is the response header that signs a V1 response body.
const HeaderBodySign = "Body-Sign"

// SignTypeHMACSHA256 is the only sign_type of a Body-Sign header.
const SignTypeHMACSHA256 = "HMAC-SHA256"

const (
	bodySignPrefix = `sign_type="` + SignTypeHMACSHA256 + `", signature="`
	bodySignLen    = len(bodySignPrefix) + tokenLen + 1
)

// BodySign returns the Body-Sign header value for a V1 response body (spec
// §3.3), in exactly the form the docs show:
//
//	sign_type="HMAC-SHA256", signature="<Base64(HMAC-SHA256(Key, body))>"
//
// The key is the plain Key (no timeStamp), and body must be the bytes
// written to the wire, byte for byte.
func BodySign(key string, body []byte) string {
	mac := sum(key, "", body)
	var b [bodySignLen]byte
	n := copy(b[:], bodySignPrefix)
	encodeTokenTo(b[n:n+tokenLen], &mac)
	b[bodySignLen-1] = '"'
	return string(b[:])
}

// ParseBodySign reads a Body-Sign header value: comma-separated
// name="value" parameters. It tolerates the variants implementations send
// (no space after the comma, spaces around '='), matches names
// case-insensitively and ignores unknown parameters. Values must be
// double-quoted, as the docs insist; sign_type and signature must each appear
// exactly once.
func ParseBodySign(header string) (signType, signature string, err error) {
	var haveType, haveSig bool
	rest := header
	for {
		rest = trimSpace(rest)
		if rest == "" {
			break
		}
		eq := strings.IndexByte(rest, '=')
		if eq < 0 {
			return "", "", fmt.Errorf("v1sign: parse Body-Sign: %w: parameter without '='", ErrMalformed)
		}
		name := trimSpace(rest[:eq])
		if name == "" || strings.ContainsAny(name, `,"`) {
			return "", "", fmt.Errorf("v1sign: parse Body-Sign: %w: empty or malformed parameter name", ErrMalformed)
		}
		rest = trimSpace(rest[eq+1:])
		if !strings.HasPrefix(rest, `"`) {
			return "", "", fmt.Errorf("v1sign: parse Body-Sign: %w: value of %q is not quoted", ErrMalformed, name)
		}
		end := strings.IndexByte(rest[1:], '"')
		if end < 0 {
			return "", "", fmt.Errorf("v1sign: parse Body-Sign: %w: unterminated value of %q", ErrMalformed, name)
		}
		value := rest[1 : 1+end]
		rest = trimSpace(rest[end+2:])
		switch {
		case strings.EqualFold(name, "sign_type"):
			if haveType {
				return "", "", fmt.Errorf("v1sign: parse Body-Sign: %w: repeated sign_type", ErrMalformed)
			}
			signType, haveType = value, true
		case strings.EqualFold(name, "signature"):
			if haveSig {
				return "", "", fmt.Errorf("v1sign: parse Body-Sign: %w: repeated signature", ErrMalformed)
			}
			signature, haveSig = value, true
		}
		if rest == "" {
			break
		}
		if rest[0] != ',' {
			return "", "", fmt.Errorf("v1sign: parse Body-Sign: %w: parameters not separated by ','", ErrMalformed)
		}
		rest = rest[1:]
	}
	if !haveType || !haveSig || signature == "" {
		return "", "", fmt.Errorf("v1sign: parse Body-Sign: %w: need sign_type and signature", ErrMalformed)
	}
	return signType, signature, nil
}

// VerifyBodySign checks a Body-Sign header value against the response body
// in constant time; sign_type must be HMAC-SHA256 (any case).
func VerifyBodySign(key string, body []byte, header string) error {
	signType, signature, err := ParseBodySign(header)
	if err != nil {
		return err
	}
	if !strings.EqualFold(signType, SignTypeHMACSHA256) {
		return fmt.Errorf("v1sign: verify Body-Sign: %w: sign_type %q is not %s", ErrMalformed, signType, SignTypeHMACSHA256)
	}
	mac := sum(key, "", body)
	if !tokenMatches(&mac, signature) {
		return fmt.Errorf("v1sign: verify Body-Sign: %w", ErrMismatch)
	}
	return nil
}

func trimSpace(s string) string { return strings.Trim(s, " \t") }
