package callback

import (
	"net/http"
	"net/url"
	"strings"
)

// Where each scheme carries its signature, timestamp and nonce: the kit
// in headers, the others in the query string.

// Header names of the kit scheme, in canonical form so that lookups do not
// allocate.
const (
	headerSign      = "X-Sign"
	headerTimestamp = "X-Timestamp"
	headerNonce     = "X-Nonce"
)

func (h *Handler) credentials(rawQuery string, header http.Header) (sig, ts, nonce string) {
	if h.scheme == SchemeKit {
		return first(header[headerSign]), first(header[headerTimestamp]), first(header[headerNonce])
	}
	return queryParams(rawQuery)
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

// queryParams extracts signature, timestamp and nonce from a raw query
// without building a url.Values map. As with url.Values.Get the first
// occurrence of a name wins.
func queryParams(raw string) (sig, ts, nonce string) {
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		name, value, _ := strings.Cut(pair, "=")
		if escaped(name) {
			if n, err := url.QueryUnescape(name); err == nil {
				name = n
			}
		}
		var dst *string
		switch name {
		case "signature":
			dst = &sig
		case "timestamp":
			dst = &ts
		case "nonce":
			dst = &nonce
		default:
			continue
		}
		if *dst != "" {
			continue
		}
		if escaped(value) {
			v, err := url.QueryUnescape(value)
			if err != nil {
				continue
			}
			value = v
		}
		*dst = value
	}
	return sig, ts, nonce
}

// escaped reports whether a query component holds a '%' or a '+', which
// url.QueryUnescape would change (strings.ContainsAny builds a set on every
// call; IndexByte is vectorised).
func escaped(s string) bool {
	return strings.IndexByte(s, '%') >= 0 || strings.IndexByte(s, '+') >= 0
}
