package canonjson

import (
	"encoding/binary"
	"errors"
	"unicode/utf16"
	"unicode/utf8"
)

var (
	errInvalid     = errors.New("canonjson: invalid JSON")
	errNotObject   = errors.New("canonjson: not a JSON object")
	errTooMany     = errors.New("canonjson: too many top-level members")
	errNoJackson   = errors.New("canonjson: no Jackson form: invalid UTF-8 or a lone surrogate")
	errNotFlatJSON = errors.New("canonjson: no Map<String,String> form: an object or array member")
)

// maxDepth is encoding/json's nesting limit, so that exactly the documents
// json.Valid accepts are accepted.
const maxDepth = 10000

// What a scanned value (or a key) contains, for deciding which forms
// differ from which without building them.
const (
	hasEscape    uint8 = 1 << iota // a backslash escape in a string
	hasSpace                       // insignificant whitespace inside the value
	hasFloat                       // a number Jackson writes differently: a fraction, an exponent, -0
	hasHigh                        // a byte ≥ 0x80 in a string
	hasContainer                   // the value is an object or an array
	isScalar                       // the value is a number or a boolean
	isNull                         // the value is null
)

// strClass classifies string bytes: 0 for those that need no attention.
var strClass = func() (t [256]uint8) {
	for c := range 0x20 {
		t[c] = 1 // a control character: invalid inside a string
	}
	t['"'], t['\\'] = 2, 3
	return t
}()

func isSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func skipSpace(src []byte, i int) int {
	for i < len(src) && isSpace(src[i]) {
		i++
	}
	return i
}

// Eight bytes at a time: a word holds a byte that ends a plain run of a
// string if it has a '"', a '\\' or a control character (the tests may
// report a false positive after a true one, which the byte loop sorts out).
const (
	ones   = 0x0101010101010101
	highs  = 0x8080808080808080
	quotes = '"' * ones
	slashs = '\\' * ones
)

func special(w uint64) bool {
	q, b := w^quotes, w^slashs
	return ((q-ones)&^q|(b-ones)&^b|(w-0x20*ones)&^w)&highs != 0
}

// plainRun returns the index of the first byte at or after i that is a
// '"', a '\\' or a control character (or len(src)), and ORs the bytes
// skipped into *high.
func plainRun(src []byte, i int, high *uint64) int {
	if i < len(src) && strClass[src[i]] != 0 {
		return i // escape-dense text: no word to load
	}
	h := *high
	for i+8 <= len(src) {
		w := binary.LittleEndian.Uint64(src[i:])
		if special(w) {
			break
		}
		h |= w
		i += 8
	}
	for i < len(src) && strClass[src[i]] == 0 {
		h |= uint64(src[i])
		i++
	}
	*high = h
	return i
}

// scanString validates the string literal starting at src[i] == '"' and
// returns the index just past it, or -1.
func scanString(src []byte, i int, flags *uint8) int {
	i++
	var high uint64
	for {
		i = plainRun(src, i, &high)
		if i >= len(src) {
			return -1
		}
		switch src[i] {
		case '"':
			if high&highs != 0 {
				*flags |= hasHigh
			}
			return i + 1
		case '\\':
			*flags |= hasEscape
			if i+1 >= len(src) {
				return -1
			}
			switch src[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(src) || !isHex(src[i+2]) || !isHex(src[i+3]) || !isHex(src[i+4]) || !isHex(src[i+5]) {
					return -1
				}
				i += 6
			default:
				return -1
			}
		default:
			return -1 // a control character
		}
	}
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// scanNumber validates the number starting at src[i] and returns the index
// just past it, or -1.
func scanNumber(src []byte, i int, flags *uint8) int {
	start := i
	if src[i] == '-' {
		i++
	}
	switch {
	case i >= len(src):
		return -1
	case src[i] == '0':
		i++
	case '1' <= src[i] && src[i] <= '9':
		for i < len(src) && isDigit(src[i]) {
			i++
		}
	default:
		return -1
	}
	if i < len(src) && src[i] == '.' {
		*flags |= hasFloat
		i++
		if i >= len(src) || !isDigit(src[i]) {
			return -1
		}
		for i < len(src) && isDigit(src[i]) {
			i++
		}
	}
	if i < len(src) && (src[i] == 'e' || src[i] == 'E') {
		*flags |= hasFloat
		i++
		if i < len(src) && (src[i] == '+' || src[i] == '-') {
			i++
		}
		if i >= len(src) || !isDigit(src[i]) {
			return -1
		}
		for i < len(src) && isDigit(src[i]) {
			i++
		}
	}
	if i-start == 2 && src[start] == '-' { // "-0"
		*flags |= hasFloat
	}
	return i
}

func scanLiteral(src []byte, i int, lit string) int {
	if len(src)-i < len(lit) || string(src[i:i+len(lit)]) != lit {
		return -1
	}
	return i + len(lit)
}

// scanValue validates the JSON value starting at src[i] (no leading space),
// nested depth levels deep, and returns the index just past it, or -1. It
// adds what the value contains to flags.
func scanValue(src []byte, i, depth int, flags *uint8) int {
	if i < len(src) && src[i] != '{' && src[i] != '[' {
		return scanScalar(src, i, flags)
	}
	var stack [maxDepth/64 + 1]uint64 // bit set: the level is an array
	base := depth
	for {
		// A value starts at i.
		if i >= len(src) {
			return -1
		}
		switch c := src[i]; {
		case c == '{' || c == '[':
			*flags |= hasContainer
			depth++
			if depth > maxDepth {
				return -1
			}
			lvl := depth - base
			if c == '[' {
				stack[lvl/64] |= 1 << (lvl % 64)
			} else {
				stack[lvl/64] &^= 1 << (lvl % 64)
			}
			j := i + 1
			i = skipSpace(src, j)
			if i != j {
				*flags |= hasSpace
			}
			if i < len(src) && src[i] == c+2 { // '}' or ']'
				i++
				depth--
				goto closed
			}
			if c == '{' {
				if i = scanKey(src, i, flags); i < 0 {
					return -1
				}
			}
			continue
		case c == '"':
			i = scanString(src, i, flags)
		case c == '-' || isDigit(c):
			i = scanNumber(src, i, flags)
		case c == 't':
			i = scanLiteral(src, i, "true")
		case c == 'f':
			i = scanLiteral(src, i, "false")
		case c == 'n':
			i = scanLiteral(src, i, "null")
		default:
			return -1
		}
		if i < 0 {
			return -1
		}
	closed:
		for {
			if depth == base {
				return i
			}
			j := i
			i = skipSpace(src, i)
			if i != j {
				*flags |= hasSpace
			}
			if i >= len(src) {
				return -1
			}
			lvl := depth - base
			array := stack[lvl/64]&(1<<(lvl%64)) != 0
			switch src[i] {
			case ',':
				j := i + 1
				i = skipSpace(src, j)
				if i != j {
					*flags |= hasSpace
				}
				if !array {
					if i = scanKey(src, i, flags); i < 0 {
						return -1
					}
				}
			case '}', ']':
				if (src[i] == ']') != array {
					return -1
				}
				i++
				depth--
				continue
			default:
				return -1
			}
			break
		}
	}
}

// scanScalar validates the string, number or literal starting at src[i]
// and returns the index just past it, or -1.
func scanScalar(src []byte, i int, flags *uint8) int {
	switch c := src[i]; {
	case c == '"':
		return scanString(src, i, flags)
	case c == '-' || isDigit(c):
		return scanNumber(src, i, flags)
	case c == 't':
		return scanLiteral(src, i, "true")
	case c == 'f':
		return scanLiteral(src, i, "false")
	case c == 'n':
		return scanLiteral(src, i, "null")
	}
	return -1
}

// scanKey validates `"key" :` followed by optional space at src[i] and
// returns the index of the value.
func scanKey(src []byte, i int, flags *uint8) int {
	if i >= len(src) || src[i] != '"' {
		return -1
	}
	if i = scanString(src, i, flags); i < 0 {
		return -1
	}
	j := i
	i = skipSpace(src, i)
	if i >= len(src) || src[i] != ':' {
		return -1
	}
	i = skipSpace(src, i+1)
	if i != j+1 {
		*flags |= hasSpace
	}
	return i
}

// appendUnquote appends the decoded contents of the valid string literal
// lit (quotes included). With strict false it decodes as encoding/json
// does: invalid UTF-8 and lone surrogates become U+FFFD. With strict true
// it reports false for either instead, since Jackson (which reads UTF-8
// strictly and writes a lone surrogate as '?') would not reproduce them.
func appendUnquote(dst, lit []byte, strict bool) ([]byte, bool) {
	s := lit[1 : len(lit)-1]
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf && c != '\\' {
			j := i + 1
			for j < len(s) && s[j] < utf8.RuneSelf && s[j] != '\\' {
				j++
			}
			dst = append(dst, s[i:j]...)
			i = j
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				if strict {
					return dst, false
				}
				dst = utf8.AppendRune(dst, utf8.RuneError)
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		// An escape.
		switch e := s[i+1]; e {
		case 'u':
			r := rune(hex4(s[i+2 : i+6]))
			i += 6
			if utf16.IsSurrogate(r) {
				if r < 0xDC00 && i+6 <= len(s) && s[i] == '\\' && s[i+1] == 'u' {
					if lo := rune(hex4(s[i+2 : i+6])); 0xDC00 <= lo && lo < 0xE000 {
						dst = utf8.AppendRune(dst, utf16.DecodeRune(r, lo))
						i += 6
						continue
					}
				}
				if strict {
					return dst, false
				}
				r = utf8.RuneError
			}
			dst = utf8.AppendRune(dst, r)
			continue
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		default: // '"', '\\', '/'
			dst = append(dst, e)
		}
		i += 2
	}
	return dst, true
}

func hex4(h []byte) uint16 {
	_ = h[3]
	return uint16(unhex[h[0]])<<12 | uint16(unhex[h[1]])<<8 | uint16(unhex[h[2]])<<4 | uint16(unhex[h[3]])
}

// unhex maps a hex digit to its value (the input is valid).
var unhex = func() (t [256]uint8) {
	for c := '0'; c <= '9'; c++ {
		t[c] = uint8(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = uint8(c-'a') + 10
		t[c-'a'+'A'] = uint8(c-'a') + 10
	}
	return t
}()
