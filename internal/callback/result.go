package callback

import (
	"errors"
	"unicode/utf8"
)

// Result codes shared by every production interface (the result-code tables of
// KooGallery's SaaS V1 and V2 pages, zh-cn_topic_0070649013 and
// zh-cn_topic_0070649427).
const (
	CodeSuccess    = "000000"
	CodeAuth       = "000001" // authentication failed
	CodeInvalid    = "000002" // invalid request parameter
	CodeNotFound   = "000003" // instance (or licence code) does not exist
	CodeProcessing = "000004" // being processed; for newInstance: provisioning asynchronously
	CodeInternal   = "000005" // other internal error
)

// maxMsgLen is resultMsg's documented limit (String 255).
const maxMsgLen = 255

// Error is a failure that answers KooGallery with Code and Message.
type Error struct {
	Code    string
	Message string
}

// Error is the resultMsg.
func (e *Error) Error() string { return e.Message }

// Result implements Resulter.
func (e *Error) Result() (code, message string) { return e.Code, e.Message }

// Resulter is implemented by errors that choose the result code a handler
// answers with: *Error here, and the exported ResultError types of packages
// saas, license and order. Any error in a chain (errors.As) that implements it
// decides the answer, so a seller may wrap them with context.
type Resulter interface {
	Result() (code, message string)
}

// Invalid returns the 000002 answer for a bad or missing request field.
func Invalid(message string) error { return &Error{Code: CodeInvalid, Message: message} }

// validCode reports whether code is six ASCII digits other than 000000.
func validCode(code string) bool {
	if len(code) != 6 || code == CodeSuccess {
		return false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// defaultMessage is the resultMsg for code when nothing more specific is
// known. It is deliberately generic: resultMsg is shown to KooGallery staff
// and must not carry internal detail.
func defaultMessage(code string) string {
	switch code {
	case CodeSuccess:
		return "success"
	case CodeAuth:
		return "authentication failed"
	case CodeInvalid:
		return "invalid parameter"
	case CodeNotFound:
		return "instance not found"
	case CodeProcessing:
		return "request is being processed"
	case CodeInternal:
		return "internal error"
	case "000100":
		return "no instance resource available"
	case "000101":
		return "mobile number missing or already used"
	case "000102":
		return "e-mail missing or already used"
	case "000103":
		return "product cannot be purchased twice"
	case "000104":
		return "product internal service error"
	case "000105":
		return "account already subscribed to the benefit"
	case "000106":
		return "product resources sold out"
	case "000107":
		return "e-mail domain already exists"
	case "000900":
		return "license quota exhausted"
	case "000901":
		return "outside the order's validity period"
	case "000902":
		return "a period license needs an expiry time"
	case "000903":
		return "device fingerprint required"
	default:
		return "request failed"
	}
}

// classify maps an error to the answer. ok is false when the error did not
// choose a valid code and the answer is the generic 000005.
func classify(err error) (code, message string, ok bool) {
	var r Resulter
	if errors.As(err, &r) {
		code, message = r.Result()
		if validCode(code) {
			if message == "" {
				message = defaultMessage(code)
			}
			return code, truncate(message, maxMsgLen), true
		}
	}
	return CodeInternal, defaultMessage(CodeInternal), false
}

// truncate shortens s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

const hexLower = "0123456789abcdef"

// AppendString appends s as a JSON string using only ASCII: quotes, backslashes
// and control characters escaped, everything non-ASCII written as \uXXXX
// (surrogate pairs above U+FFFF), invalid UTF-8 as \ufffd. The docs ask for
// non-ASCII response text as \u escapes (the memo of KooGallery's V1
// newInstance page, zh-cn_topic_0070649013), and ASCII-only output survives any
// charset confusion on the way.
func AppendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if i+8 <= len(s) && plain8(s[i:i+8]) {
			i += 8
			continue
		}
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' {
			i++
			continue
		}
		dst = append(dst, s[start:i]...)
		if c < utf8.RuneSelf {
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = appendU4(dst, rune(c))
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r >= 0x10000 {
			r -= 0x10000
			dst = appendU4(dst, 0xD800+(r>>10))
			dst = appendU4(dst, 0xDC00+(r&0x3FF))
		} else {
			dst = appendU4(dst, r) // utf8.RuneError for invalid bytes
		}
		i += size
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// plain8 reports whether the eight bytes of s are all printable ASCII
// other than '"' and '\\', which AppendString copies as they are.
func plain8(s string) bool {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	q, b := w^('"'*ones), w^('\\'*ones)
	// A byte below 0x20 or ≥ 0x80, or a '"' or '\\' (a zero byte of q or
	// b), sets its high bit in one of the terms; a borrow may flag a later
	// byte too, which only sends the word to the byte loop.
	return ((w-0x20*ones)|(q-ones)|(b-ones)|w)&highs == 0
}

func appendU4(dst []byte, r rune) []byte {
	return append(dst, '\\', 'u', hexLower[r>>12&0xF], hexLower[r>>8&0xF], hexLower[r>>4&0xF], hexLower[r&0xF])
}
