package canonjson

import (
	"bytes"
	"io"
	"unicode/utf16"
	"unicode/utf8"
)

// Mode says how Huawei's demo binds a body before re-serialising it.
type Mode uint8

const (
	// KitForm is the joint-operation kit's binding, Map<String,Object>:
	// values keep their JSON types; numbers are written back as Java writes
	// the Integer, Long, BigInteger or Double read.
	KitForm Mode = iota
	// BasicForm is the basic interface's binding (SaaS V2, License 2.0,
	// order notification), Map<String,String>: every top-level value is a
	// string, a number or boolean becoming the text of its literal; a body
	// with an object or array member cannot be bound, so has no form.
	BasicForm
)

// WriteJackson writes the Jackson form of the object (see the package
// comment) to w through buf, a scratch buffer it returns for reuse: the
// top-level members sorted by name in Java's String order (UTF-16 code
// units), the last of a repeated name kept, null members dropped; strings
// decoded and re-escaped as Jackson escapes them; for KitForm, numbers as
// Java writes them and nested objects and arrays in their received order,
// compacted; for BasicForm, scalars quoted.
//
// It fails, having written a prefix, when the demo would not reproduce the
// body: a string holding invalid UTF-8 or a lone surrogate escape (Jackson
// refuses the first and its output encoder turns the second into '?'), or,
// for BasicForm, an object or array member. Nested objects keep a repeated
// name twice where Jackson keeps the last one at the first one's place;
// KooGallery's serialiser cannot produce one.
func (o *Object) WriteJackson(w io.Writer, buf []byte, mode Mode) ([]byte, error) {
	s := sink{w: w, buf: buf[:0]}
	err := o.writeJackson(&s, mode)
	return s.flush(), err
}

// AppendJackson appends the Jackson form of the JSON object src to dst.
func AppendJackson(dst, src []byte, mode Mode) ([]byte, error) {
	var o Object
	if err := o.Parse(src); err != nil {
		return dst, err
	}
	s := sink{buf: dst}
	err := o.writeJackson(&s, mode)
	return s.buf, err
}

// JacksonIsCanonical reports whether the Jackson form in mode, if there is
// one, equals the canonical form (BasicForm: the quoted form), so that a
// verifier need not try both.
func (o *Object) JacksonIsCanonical(mode Mode) bool {
	if o.flags&(hasEscape|hasHigh) != 0 {
		return false // escapes to decode, or non-ASCII names sorted in UTF-16 order
	}
	if mode == KitForm {
		return o.flags&hasFloat == 0
	}
	return o.flags&hasContainer == 0
}

func (o *Object) writeJackson(s *sink, mode Mode) error {
	if mode == BasicForm && o.flags&hasContainer != 0 {
		for i := range o.Members {
			if o.Members[i].flags&isNull == 0 && o.Members[i].flags&hasContainer != 0 {
				return errNotFlatJSON
			}
		}
	}
	for i := range o.Members {
		m := &o.Members[i]
		if m.flags&hasHigh != 0 || bytes.IndexByte(m.RawKey, '\\') >= 0 {
			if _, ok := appendUnquote(nil, m.RawKey, true); !ok {
				return errNoJackson
			}
		}
	}
	order := o.sorted(func(a, b *Member) int { return CompareJava(a.Key, b.Key) })
	s.byte('{')
	first := true
	for _, i := range order {
		m := &o.Members[i]
		if m.flags&isNull != 0 {
			continue
		}
		if !first {
			s.byte(',')
		}
		first = false
		s.buf = appendKey(s.buf, m.Key)
		s.byte(':')
		v := m.Value
		switch {
		case mode == BasicForm && m.flags&isScalar != 0:
			s.byte('"')
			s.write(v)
			s.byte('"')
		case m.flags&(hasEscape|hasSpace|hasFloat|hasHigh) == 0:
			s.write(v)
		case m.flags&(hasEscape|hasSpace|hasFloat) == 0:
			if !utf8.Valid(v) {
				return errNoJackson
			}
			s.write(v)
		default:
			if err := s.jacksonValue(v); err != nil {
				return err
			}
		}
	}
	s.byte('}')
	return nil
}

// jacksonValue writes the valid JSON value v in Jackson's form.
func (s *sink) jacksonValue(v []byte) error {
	for i := 0; i < len(v); {
		switch c := v[i]; {
		case c == '"':
			end := stringEnd(v, i)
			if err := s.jacksonString(v[i:end]); err != nil {
				return err
			}
			i = end
		case c == '-' || isDigit(c):
			j := i + 1
			for j < len(v) && (isDigit(v[j]) || v[j] == '.' || v[j] == 'e' || v[j] == 'E' || v[j] == '+' || v[j] == '-') {
				j++
			}
			s.buf = appendJavaNumber(s.buf, v[i:j])
			i = j
		case isSpace(c):
			i++
		default:
			j := i + 1
			for j < len(v) && v[j] != '"' && v[j] != '-' && !isDigit(v[j]) && !isSpace(v[j]) {
				j++
			}
			s.buf = append(s.buf, v[i:j]...)
			i = j
		}
		s.maybeFlush()
	}
	return nil
}

// jacksonString writes the valid string literal lit decoded and re-escaped
// Jackson's way, in one pass.
func (s *sink) jacksonString(lit []byte) error {
	inner := lit[1 : len(lit)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		if !utf8.Valid(inner) {
			return errNoJackson
		}
		s.write(lit)
		return nil
	}
	dst := append(s.buf, '"')
	for i := 0; i < len(inner); {
		c := inner[i]
		if c != '\\' {
			j := i + 1
			for j < len(inner) && inner[j] != '\\' {
				j++
			}
			if !utf8.Valid(inner[i:j]) {
				return errNoJackson
			}
			dst = append(dst, inner[i:j]...)
			i = j
			continue
		}
		switch e := inner[i+1]; e {
		case 'u':
			r := rune(hex4(inner[i+2 : i+6]))
			i += 6
			if utf16.IsSurrogate(r) {
				if r >= 0xDC00 || i+6 > len(inner) || inner[i] != '\\' || inner[i+1] != 'u' {
					return errNoJackson
				}
				lo := rune(hex4(inner[i+2 : i+6]))
				if lo < 0xDC00 || lo >= 0xE000 {
					return errNoJackson
				}
				dst = utf8.AppendRune(dst, utf16.DecodeRune(r, lo))
				i += 6
				continue
			}
			if r < 0x80 {
				dst = appendJacksonText(dst, []byte{byte(r)})
			} else {
				dst = utf8.AppendRune(dst, r)
			}
			continue
		case '"', '\\':
			dst = append(dst, '\\', e)
		case '/':
			dst = append(dst, '/')
		default: // b f n r t: Jackson writes them the same way
			dst = append(dst, '\\', e)
		}
		i += 2
	}
	s.buf = append(dst, '"')
	return nil
}
