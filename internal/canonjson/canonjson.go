// Package canonjson produces the canonical JSON form that KooGallery signs in
// its V2 callbacks (SaaS V2 basic, License 2.0, order notification, and the
// joint-operation kit's x-sign), and walks the top-level members of a JSON
// object without building a map.
//
// The canonical form is what Huawei's Java demo re-serialises with Jackson
// before hashing: the top-level members sorted by key, members whose value is
// null dropped, every value compacted exactly as received (nested key order,
// number literals and string escapes preserved), nothing HTML-escaped.
package canonjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
)

var (
	errInvalid   = errors.New("canonjson: invalid JSON")
	errNotObject = errors.New("canonjson: not a JSON object")
)

// Append appends the canonical form of the JSON object src to dst and
// returns the extended buffer. It fails, without panicking, when src is not a
// single valid JSON object.
//
// Keys are sorted byte-wise on their decoded UTF-8 form. Java sorts by UTF-16
// code unit, which differs only between supplementary characters and
// U+E000..U+FFFF; KooGallery's keys are ASCII, so this is not a practical
// difference. For duplicate keys the last one wins, as it does for Jackson
// binding to a Map.
func Append(dst, src []byte) ([]byte, error) {
	return appendCanonical(dst, src, false)
}

// AppendQuotedScalars is Append with every top-level number and boolean
// written as a JSON string holding its literal text ("testFlag":0 becomes
// "testFlag":"0").
//
// It models the SaaS V2 basic interface's quirk: the official demo binds the
// body to Map<String,String> before re-serialising it, so a non-string scalar
// would be signed quoted. KooGallery has not been seen sending one; verifiers
// try this form last, for tolerance (spec callbacks.md §3.7).
func AppendQuotedScalars(dst, src []byte) ([]byte, error) {
	return appendCanonical(dst, src, true)
}

type member struct {
	key, value []byte
}

func appendCanonical(dst, src []byte, quoteScalars bool) ([]byte, error) {
	var stack [24]member
	members := stack[:0]
	err := Scan(src, func(key, value []byte) error {
		members = append(members, member{key, value})
		return nil
	})
	if err != nil {
		return dst, err
	}
	slices.SortStableFunc(members, func(a, b member) int { return bytes.Compare(a.key, b.key) })

	dst = append(dst, '{')
	first := true
	for i, m := range members {
		if i+1 < len(members) && bytes.Equal(m.key, members[i+1].key) {
			continue // a later duplicate wins
		}
		if isNull(m.value) {
			continue
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendKey(dst, m.key)
		dst = append(dst, ':')
		if quoteScalars && isBareScalar(m.value) {
			dst = append(dst, '"')
			dst = append(dst, m.value...)
			dst = append(dst, '"')
			continue
		}
		dst = appendCompact(dst, m.value)
	}
	return append(dst, '}'), nil
}

// Scan validates that src is a single JSON object and calls fn for each of
// its top-level members in the order received. key is the decoded member name
// and value the member's JSON text, trimmed of surrounding whitespace but
// otherwise as received; both may alias src and are valid only during the
// call. Scan stops at, and returns, the first error fn returns.
func Scan(src []byte, fn func(key, value []byte) error) error {
	if !json.Valid(src) {
		return errInvalid
	}
	i := skipSpace(src, 0)
	if src[i] != '{' {
		return errNotObject
	}
	i = skipSpace(src, i+1)
	if src[i] == '}' {
		return nil
	}
	for {
		end := stringEnd(src, i)
		key, err := decodeKey(src[i:end])
		if err != nil {
			return err
		}
		i = skipSpace(src, end)
		i = skipSpace(src, i+1) // ':'
		end = valueEnd(src, i)
		if err := fn(key, src[i:end]); err != nil {
			return err
		}
		i = skipSpace(src, end)
		if src[i] == '}' {
			return nil
		}
		i = skipSpace(src, i+1) // ','
	}
}

// The helpers below rely on src having passed json.Valid.

func skipSpace(src []byte, i int) int {
	for i < len(src) {
		switch src[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index just past the string literal starting at i.
func stringEnd(src []byte, i int) int {
	for i++; ; i++ {
		switch src[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

// valueEnd returns the index just past the JSON value starting at i.
func valueEnd(src []byte, i int) int {
	switch src[i] {
	case '"':
		return stringEnd(src, i)
	case '{', '[':
		depth := 0
		for ; ; i++ {
			switch src[i] {
			case '"':
				i = stringEnd(src, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
	default:
		for ; i < len(src); i++ {
			switch src[i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return i
			}
		}
		return i
	}
}

func decodeKey(quoted []byte) ([]byte, error) {
	raw := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(raw, '\\') < 0 {
		return raw, nil
	}
	var s string
	if err := json.Unmarshal(quoted, &s); err != nil {
		return nil, errInvalid
	}
	return []byte(s), nil
}

func isNull(v []byte) bool { return len(v) == 4 && string(v) == "null" }

// isBareScalar reports whether v is a number or a boolean literal.
func isBareScalar(v []byte) bool {
	switch v[0] {
	case 't', 'f', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return true
	}
	return false
}

// appendCompact appends the valid JSON value v without insignificant
// whitespace. Unlike json.Compact it needs no bytes.Buffer, and like it, it
// leaves string contents (escapes included) untouched.
func appendCompact(dst, v []byte) []byte {
	start := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			i = stringEnd(v, i) - 1
		case ' ', '\t', '\n', '\r':
			dst = append(dst, v[start:i]...)
			start = i + 1
		}
	}
	return append(dst, v[start:]...)
}

const hexUpper = "0123456789ABCDEF"

// appendKey appends key as a JSON string the way Jackson writes it: '"' and
// '\\' escaped, control characters as \b \t \n \f \r or \u00XX (upper-case
// hex), everything else, non-ASCII included, raw.
func appendKey(dst, key []byte) []byte {
	dst = append(dst, '"')
	start := 0
	for i, c := range key {
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, key[start:i]...)
		start = i + 1
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\r':
			dst = append(dst, '\\', 'r')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hexUpper[c>>4], hexUpper[c&0xF])
		}
	}
	dst = append(dst, key[start:]...)
	return append(dst, '"')
}
