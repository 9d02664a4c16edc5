package v1sign

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/isvkit/koogallery/internal/canonjson"
)

// Names of the query parameters that carry the V1 authToken scheme.
const (
	ParamAuthToken = "authToken"
	ParamTimeStamp = "timeStamp"
)

// param is one decoded query parameter.
type param struct{ name, value string }

// Query is a V1 GET query string read the way KooGallery's Java servlet reads
// it, which is what its authToken is computed over (KooGallery's SaaS V1
// authToken page, zh-cn_topic_0070649156):
//
//   - pairs are separated by '&' only (';' is an ordinary character, unlike
//     url.ParseQuery); empty pairs and pairs with an empty name are skipped;
//   - names and values are form-decoded with url.QueryUnescape semantics:
//     "%XX" is a byte and '+' is a space; a malformed escape is an error;
//   - a repeated name keeps its first value; a name without '=' has the
//     empty value, which is signed as "name=".
//
// Verify also accepts a token computed with '+' kept literal; see Verify.
type Query struct {
	raw     string
	params  []param // Java order, one per name
	reading Reading
}

// Reading says how a Query's values are decoded from the raw query.
type Reading uint8

const (
	// ReadingForm decodes form-style: '+' is a space. It is how
	// KooGallery's Java servlet reads a query, and the reading before
	// Verify.
	ReadingForm Reading = iota
	// ReadingLiteralPlus keeps '+' literal (url.PathUnescape). Verify
	// switches to it when only this reading matches the authToken.
	ReadingLiteralPlus
)

// ParseQuery reads a raw query string (http.Request.URL.RawQuery, without
// the '?').
func ParseQuery(rawQuery string) (*Query, error) {
	params, err := parseParams(rawQuery, url.QueryUnescape)
	if err != nil {
		return nil, err
	}
	return &Query{raw: rawQuery, params: params}, nil
}

// MaxParams bounds the parameters of a query ParseQuery reads: KooGallery
// sends about twenty, and sorting them is the step whose cost grows
// fastest with the query.
const MaxParams = 1024

func parseParams(raw string, unescape func(string) (string, error)) ([]param, error) {
	n := strings.Count(raw, "&") + 1
	if n > MaxParams {
		if n = countPairs(raw); n > MaxParams {
			return nil, fmt.Errorf("v1sign: parse query: %w: more than %d parameters", ErrMalformed, MaxParams)
		}
	}
	params := make([]param, 0, n)
	for rest := raw; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair == "" {
			continue
		}
		name, value, _ := strings.Cut(pair, "=")
		name, err := unescape(name)
		if err != nil {
			return nil, fmt.Errorf("v1sign: parse query: %w: %w", ErrMalformed, err)
		}
		if name == "" {
			continue
		}
		if value, err = unescape(value); err != nil {
			return nil, fmt.Errorf("v1sign: parse query %q: %w: %w", name, ErrMalformed, err)
		}
		params = append(params, param{name, value})
	}
	return sortParams(params), nil
}

// countPairs counts the non-empty '&'-separated pairs of raw.
func countPairs(raw string) int {
	n := 0
	for rest := raw; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if pair != "" {
			n++
		}
	}
	return n
}

// sortParams sorts params in Java order and keeps the first of each name.
func sortParams(params []param) []param {
	slices.SortStableFunc(params, func(a, b param) int { return canonjson.CompareJava(a.name, b.name) })
	return slices.CompactFunc(params, func(a, b param) bool { return a.name == b.name })
}

// Get returns the decoded value of the named parameter, or "".
func (q *Query) Get(name string) string {
	v, _ := q.Lookup(name)
	return v
}

// Lookup returns the decoded value of the named parameter and whether it is
// present.
func (q *Query) Lookup(name string) (string, bool) {
	return lookup(q.params, name)
}

func lookup(params []param, name string) (string, bool) {
	i, ok := slices.BinarySearchFunc(params, name, func(p param, name string) int { return canonjson.CompareJava(p.name, name) })
	if !ok {
		return "", false
	}
	return params[i].value, true
}

// Values returns the parameters as url.Values, one value per name.
func (q *Query) Values() url.Values {
	v := make(url.Values, len(q.params))
	// One backing array for every value; each name's slice is capped at
	// its one element, so that appending to it copies instead of
	// overwriting the next name's value.
	all := make([]string, len(q.params))
	for i, p := range q.params {
		all[i] = p.value
		v[p.name] = all[i : i+1 : i+1]
	}
	return v
}

// Verify checks the query's authToken with the seller Key: HMAC-SHA256 keyed
// with Key + timeStamp over every other parameter, decoded, sorted in Java
// String order and joined as name=value with '&'. A ' ' in the received
// authToken is read as '+'.
//
// KooGallery percent-encodes its values, so a literal '+' in the raw query is
// a space. Should a Base64 value (mobilePhone, email) arrive with its '+'
// un-encoded, the signer saw a '+' where the servlet sees a space; so when the
// form-decoded string does not match and the raw query holds a literal '+'
// outside authToken, Verify tries once more with '+' kept literal
// (url.PathUnescape semantics). Either way the token is an HMAC under the
// Key; the retry only widens which reading of the same bytes is accepted.
//
// Once Verify succeeds, Get, Lookup, Values and FormQuery give the values
// under the reading that verified (see Reading): what the authToken covered,
// so that "orderId=O+1" signed as "O+1" is read as "O+1", not "O 1". A
// failed Verify leaves the form reading in place.
func (q *Query) Verify(key string) error {
	token, ok := q.Lookup(ParamAuthToken)
	if !ok || token == "" {
		return fmt.Errorf("v1sign: verify query: %w", ErrMissingToken)
	}
	err := verifyParams(key, q.params, token)
	if err == nil || !errors.Is(err, ErrMismatch) || q.reading != ReadingForm || !q.hasLiteralPlus() {
		return err
	}
	if literal, perr := parseParams(q.raw, url.PathUnescape); perr == nil && verifyParams(key, literal, token) == nil {
		q.params, q.reading = literal, ReadingLiteralPlus
		return nil
	}
	return err
}

// Reading returns how the values are decoded: ReadingForm until Verify
// finds that only the literal '+' reading matches.
func (q *Query) Reading() Reading { return q.reading }

// FormQuery returns the raw query written so that a form decoder (such as
// url.ParseQuery or ParseQuery) reads the values of q's reading: the raw
// query itself for ReadingForm, with each '+' written as %2B for
// ReadingLiteralPlus.
func (q *Query) FormQuery() string {
	if q.reading == ReadingLiteralPlus {
		return strings.ReplaceAll(q.raw, "+", "%2B")
	}
	return q.raw
}

// hasLiteralPlus reports a '+' in the raw query outside the authToken pair.
func (q *Query) hasLiteralPlus() bool {
	for rest := q.raw; rest != ""; {
		var pair string
		pair, rest, _ = strings.Cut(rest, "&")
		if strings.HasPrefix(pair, ParamAuthToken+"=") {
			continue
		}
		if strings.Contains(pair, "+") {
			return true
		}
	}
	return false
}

// verifyParams checks token against sorted, deduplicated params.
func verifyParams(key string, params []param, token string) error {
	ts, ok := lookup(params, ParamTimeStamp)
	if !ok || ts == "" {
		return fmt.Errorf("v1sign: verify query: %w", ErrMissingTimeStamp)
	}
	mac := sum(key, ts, appendStringToSign(nil, params))
	if !tokenMatches(&mac, token) {
		return fmt.Errorf("v1sign: verify query authToken: %w", ErrMismatch)
	}
	return nil
}

// appendStringToSign appends the signed string of sorted params: every
// parameter but authToken as name=value, joined with '&'.
func appendStringToSign(dst []byte, params []param) []byte {
	if dst == nil {
		n := 0
		for _, p := range params {
			n += len(p.name) + len(p.value) + 2
		}
		dst = make([]byte, 0, n)
	}
	first := true
	for _, p := range params {
		if p.name == ParamAuthToken {
			continue
		}
		if !first {
			dst = append(dst, '&')
		}
		first = false
		dst = append(append(append(dst, p.name...), '='), p.value...)
	}
	return dst
}

// valuesParams returns the first value of each name in Java order; names
// without values are left out, as url.Values.Encode leaves them out.
func valuesParams(values url.Values) []param {
	params := make([]param, 0, len(values))
	for name, vs := range values {
		if len(vs) > 0 {
			params = append(params, param{name, vs[0]})
		}
	}
	return sortParams(params)
}

// QueryStringToSign returns the string a V1 authToken signs for already
// decoded parameters: every parameter but authToken, first value of each,
// sorted in Java String order, joined as name=value with '&'. It is exposed
// for debugging signature mismatches; it contains no secret.
func QueryStringToSign(values url.Values) string {
	return string(appendStringToSign(nil, valuesParams(values)))
}

// SignQuery returns the authToken KooGallery sends with values (decoded; an
// authToken among them is ignored): Base64(HMAC-SHA256(Key + timeStamp,
// QueryStringToSign(values))). Send it percent-encoded, as url.Values.Encode
// does.
func SignQuery(key string, values url.Values) (string, error) {
	params := valuesParams(values)
	ts, ok := lookup(params, ParamTimeStamp)
	if !ok || ts == "" {
		return "", fmt.Errorf("v1sign: sign query: %w", ErrMissingTimeStamp)
	}
	mac := sum(key, ts, appendStringToSign(nil, params))
	return encodeToken(&mac), nil
}

// VerifyQueryValues checks the authToken of already decoded parameters, such
// as http.Request.URL.Query(). It cannot retry with '+' kept literal, because
// decoding has lost that distinction; prefer ParseQuery and Query.Verify on
// the raw query.
func VerifyQueryValues(key string, values url.Values) error {
	params := valuesParams(values)
	token, ok := lookup(params, ParamAuthToken)
	if !ok || token == "" {
		return fmt.Errorf("v1sign: verify query: %w", ErrMissingToken)
	}
	return verifyParams(key, params, token)
}
