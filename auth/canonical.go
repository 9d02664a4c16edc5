package auth

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"net/url"
	"slices"
	"strings"
)

const upperHex = "0123456789ABCDEF"

// unreserved marks the bytes the gateway's escape function leaves unchanged:
// A-Z a-z 0-9 - _ . ~. Every other byte becomes %XX with upper-case hex.
// pathSafe adds the '/' that separates path segments.
var unreserved, pathSafe = func() (u, p [256]bool) {
	for c := 0; c < 256; c++ {
		u[c] = 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~'
		p[c] = u[c] || c == '/'
	}
	return u, p
}()

// appendEscape appends s escaped with the gateway's escape function: a space
// becomes %20 (never +), + becomes %2B, * becomes %2A and / becomes %2F.
func appendEscape(dst []byte, s string) []byte { return appendEscaped(dst, s, &unreserved) }

// appendEscaped copies the longest run of safe bytes at once and escapes the
// byte after it, until s is done.
func appendEscaped(dst []byte, s string, safe *[256]bool) []byte {
	for {
		i := safePrefix(s, safe)
		dst = append(dst, s[:i]...)
		if i == len(s) {
			return dst
		}
		c := s[i]
		dst = append(dst, '%', upperHex[c>>4], upperHex[c&15])
		s = s[i+1:]
	}
}

// safePrefix returns the length of the longest prefix of s whose bytes are
// all marked in safe: one table lookup per byte, for the scans of paths,
// queries, hosts and header values. (Unrolling it costs more instructions
// than it saves at these lengths.)
func safePrefix(s string, safe *[256]bool) int {
	i := 0
	for i < len(s) && safe[s[i]] {
		i++
	}
	return i
}

// appendCanonicalURI appends the canonical form of a decoded path: every
// segment escaped, separators kept, empty segments kept, and a trailing slash
// added unless the result already ends in one.
func appendCanonicalURI(dst []byte, path string) []byte {
	start := len(dst)
	dst = appendEscaped(dst, path, &pathSafe)
	if len(dst) == start || dst[len(dst)-1] != '/' {
		dst = append(dst, '/')
	}
	return dst
}

// isCanonicalQuery reports whether a raw query is already its own canonical
// form, so that it needs no decoding, sorting or escaping: name=value pairs
// of unreserved bytes only, each with exactly one '=', none empty, in
// canonical order. The queries NewRequest and EncodeQuery write usually are.
func isCanonicalQuery(raw string) bool {
	var prevName, prevValue string
	for first := true; ; first = false {
		i := safePrefix(raw, &unreserved)
		if i == len(raw) || raw[i] != '=' {
			return false // no '=' (canonically "a="), an empty pair, or a byte to escape
		}
		name, rest := raw[:i], raw[i+1:]
		j := safePrefix(rest, &unreserved)
		value := rest[:j]
		if !first && (name < prevName || (name == prevName && value < prevValue)) {
			return false
		}
		prevName, prevValue = name, value
		if j == len(rest) {
			return true
		}
		if rest[j] != '&' {
			return false // a second '=' (escaped as %3D) or a byte to escape
		}
		raw = rest[j+1:]
	}
}

// param is one decoded query parameter.
type param struct{ name, value string }

var (
	errQuerySemicolon = errors.New("query contains a raw ';', which servers split or drop; encode it as %3B")
	errQueryEscape    = errors.New("query contains an invalid percent-encoding")
)

// parseQuery decodes a raw query exactly as Go's url.ParseQuery (and the
// gateway) does, '+' meaning space, appending the pairs to dst. Where
// ParseQuery would silently drop a pair (a raw ';' or a bad escape) it fails
// instead: a signature over a pair the server never sees cannot verify.
// The errors never quote the query, which may carry sensitive values.
func parseQuery(dst []param, raw string) ([]param, error) {
	// One pass per pair: find '=' and note what needs decoding.
	for len(raw) > 0 {
		eq, end, escaped := -1, 0, false
		for ; end < len(raw) && raw[end] != '&'; end++ {
			switch raw[end] {
			case '=':
				if eq < 0 {
					eq = end
				}
			case '%', '+':
				escaped = true
			case ';':
				return dst, errQuerySemicolon
			}
		}
		part := raw[:end]
		if end < len(raw) {
			end++ // the '&'
		}
		raw = raw[end:]
		if part == "" {
			continue
		}
		name, value := part, ""
		if eq >= 0 {
			name, value = part[:eq], part[eq+1:]
		}
		if escaped {
			var err error
			if name, err = queryUnescape(name); err != nil {
				return dst, err
			}
			if value, err = queryUnescape(value); err != nil {
				return dst, err
			}
		}
		dst = append(dst, param{name, value})
	}
	sortParams(dst)
	return dst, nil
}

// queryUnescape is url.QueryUnescape with errors that never quote the input.
func queryUnescape(s string) (string, error) {
	u, err := url.QueryUnescape(s)
	if err != nil {
		return "", errQueryEscape
	}
	return u, nil
}

// sortParams orders parameters by name, then value, in byte order: the
// canonical order of both the official Go and Python signers.
func sortParams(ps []param) {
	// Insertion sort: queries are short and this allocates nothing.
	if len(ps) <= 12 {
		for i := 1; i < len(ps); i++ {
			for j := i; j > 0 && paramLess(ps[j], ps[j-1]); j-- {
				ps[j], ps[j-1] = ps[j-1], ps[j]
			}
		}
		return
	}
	slices.SortFunc(ps, func(a, b param) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
}

func paramLess(a, b param) bool {
	if a.name != b.name {
		return a.name < b.name
	}
	return a.value < b.value
}

// appendCanonicalQuery appends sorted parameters as escape(name)=escape(value)
// joined with '&'. An empty value keeps its '='.
func appendCanonicalQuery(dst []byte, ps []param) []byte {
	for i, p := range ps {
		if i > 0 {
			dst = append(dst, '&')
		}
		dst = appendEscape(dst, p.name)
		dst = append(dst, '=')
		dst = appendEscape(dst, p.value)
	}
	return dst
}

// EncodeQuery encodes values in canonical form: names and values sorted in
// byte order and escaped exactly as the signature escapes them (a space is
// %20, '+' is %2B). Sending this as URL.RawQuery makes the bytes on the wire
// identical to the signed form.
func EncodeQuery(values url.Values) string {
	ps := make([]param, 0, len(values))
	for name, vs := range values {
		for _, v := range vs {
			ps = append(ps, param{name, v})
		}
	}
	sortParams(ps)
	return string(appendCanonicalQuery(make([]byte, 0, 64), ps))
}

// header is one signed header line: a lower-case name and its value.
type header struct{ name, value string }

// canonical holds the parts of a canonical request and the offsets of the
// interesting pieces once it is written into a buffer.
type canonical struct {
	method string
	path   string
	// rawQuery, when set, is a query already in canonical form (see
	// isCanonicalQuery), written as it is; else query is.
	rawQuery string
	query    []param
	headers  []header // sorted by name; a name may repeat (one line per value)
}

// layout locates the parts appendStringToSign writes, as offsets into the
// buffer it returns.
type layout struct {
	crEnd                  int // the canonical request is buf[:crEnd]
	signedStart, signedEnd int // the SignedHeaders list
	stsStart, stsEnd       int // the string to sign
}

// appendStringToSign appends the canonical request of c (ending in the
// payload hash) and then the string to sign for date. It is the one core
// Sign and Verify share: what the client signs and what the server
// recomputes are written by the same code.
func (c *canonical) appendStringToSign(dst []byte, payload []byte, date string) ([]byte, layout) {
	var l layout
	start := len(dst)
	dst, l.signedStart, l.signedEnd = c.appendRequest(dst)
	dst = append(dst, payload...)
	l.crEnd = len(dst)
	crHash := sha256.Sum256(dst[start:l.crEnd])
	l.stsStart = len(dst)
	dst = append(dst, Algorithm+"\n"...)
	dst = append(dst, date...)
	dst = append(dst, '\n')
	dst = appendHex32(dst, &crHash)
	l.stsEnd = len(dst)
	return dst, l
}

// appendHex32 appends the lower-case hex of a SHA-256 sum, sixteen digits
// per step: each nibble of four bytes is spread into a byte of a uint64,
// and n becomes '0'+n, plus 39 when n > 9 (to reach 'a'); no byte carries
// into its neighbour. About twice as fast as encoding/hex at this size.
func appendHex32(dst []byte, sum *[sha256.Size]byte) []byte {
	var out [2 * sha256.Size]byte
	for i := 0; i < sha256.Size; i += 4 {
		x := uint64(binary.BigEndian.Uint32(sum[i:]))
		x = (x | x<<16) & 0x0000FFFF0000FFFF
		x = (x | x<<8) & 0x00FF00FF00FF00FF
		x = (x | x<<4) & 0x0F0F0F0F0F0F0F0F
		letters := ((x + 0x0606060606060606) >> 4) & 0x0101010101010101 // 1 where n > 9
		binary.BigEndian.PutUint64(out[2*i:], x+0x3030303030303030+letters*39)
	}
	return append(dst, out[:]...)
}

// appendMAC appends the raw HMAC of sts under mac, a keyed HMAC-SHA256.
func appendMAC(dst []byte, mac hash.Hash, sts []byte) []byte {
	mac.Reset()
	mac.Write(sts)
	return mac.Sum(dst)
}

// appendRequest appends the canonical request up to and including the newline
// before the payload hash, which the caller appends. It returns the start and
// end offsets of the SignedHeaders list.
func (c *canonical) appendRequest(dst []byte) (out []byte, signedStart, signedEnd int) {
	dst = append(dst, c.method...)
	dst = append(dst, '\n')
	dst = appendCanonicalURI(dst, c.path)
	dst = append(dst, '\n')
	if c.rawQuery != "" {
		dst = append(dst, c.rawQuery...)
	} else {
		dst = appendCanonicalQuery(dst, c.query)
	}
	dst = append(dst, '\n')
	for _, h := range c.headers {
		dst = append(dst, h.name...)
		dst = append(dst, ':')
		dst = append(dst, strings.TrimSpace(h.value)...)
		dst = append(dst, '\n')
	}
	dst = append(dst, '\n')
	signedStart = len(dst)
	for i, h := range c.headers {
		if i > 0 {
			if c.headers[i-1].name == h.name {
				continue
			}
			dst = append(dst, ';')
		}
		dst = append(dst, h.name...)
	}
	signedEnd = len(dst)
	dst = append(dst, '\n')
	return dst, signedStart, signedEnd
}
