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
			end, err := s.jacksonStringAt(v, i)
			if err != nil {
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

// jacksonStringAt writes the valid string literal starting at v[i]
// decoded and re-escaped Jackson's way, in one pass, and returns the index
// just past it.
func (s *sink) jacksonStringAt(v []byte, i int) (int, error) {
	start := i
	i++
	// Fast path: no escape. The literal is its own Jackson form if valid.
	var high uint64
	j := plainRun(v, i, &high)
	if v[j] == '"' {
		if high&highs != 0 && !utf8.Valid(v[i:j]) {
			return 0, errNoJackson
		}
		s.write(v[start : j+1])
		return j + 1, nil
	}
	dst := append(s.buf, '"')
	for {
		high = 0
		j = plainRun(v, i, &high)
		if high&highs != 0 && !utf8.Valid(v[i:j]) {
			return 0, errNoJackson
		}
		dst = append(dst, v[i:j]...)
		i = j
		if v[i] == '"' {
			break
		}
		// An escape.
		switch e := v[i+1]; e {
		case 'u':
			r := rune(hex4(v[i+2 : i+6]))
			i += 6
			if utf16.IsSurrogate(r) {
				if r >= 0xDC00 || i+6 > len(v) || v[i] != '\\' || v[i+1] != 'u' {
					return 0, errNoJackson
				}
				lo := rune(hex4(v[i+2 : i+6]))
				if lo < 0xDC00 || lo >= 0xE000 {
					return 0, errNoJackson
				}
				dst = utf8.AppendRune(dst, utf16.DecodeRune(r, lo))
				i += 6
				continue
			}
			if r < 0x80 {
				dst = appendJacksonByte(dst, byte(r))
			} else {
				dst = utf8.AppendRune(dst, r)
			}
			continue
		case '/':
			dst = append(dst, '/')
		default: // " \ b f n r t: Jackson writes them the same way
			dst = append(dst, '\\', e)
		}
		i += 2
	}
	s.buf = append(dst, '"')
	s.maybeFlush()
	return i + 1, nil
}

// appendJacksonByte appends the ASCII character c as Jackson writes it in
// a string.
func appendJacksonByte(dst []byte, c byte) []byte {
	if c >= 0x20 && c != '"' && c != '\\' {
		return append(dst, c)
	}
	return appendJacksonText(dst, []byte{c})
}

// SameOrder reports whether sorting the names byte-wise (the canonical
// form) and in Java's order (the Jackson form) agree, as they do for ASCII
// names.
func (o *Object) SameOrder() bool {
	if o.flags&(hasHigh|hasEscape) == 0 {
		return true
	}
	a := append(o.order2[:0], o.sorted(func(a, b *Member) int { return bytes.Compare(a.Key, b.Key) })...)
	o.order2 = a
	b := o.SortedJava()
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// WriteCanonicalAndJackson writes the canonical form to cw and the kit
// Jackson form to jw in one pass over the values, through the scratch
// buffers cb and jb it returns. It requires SameOrder. If the object has no
// Jackson form it returns the error, having written only part of either.
func (o *Object) WriteCanonicalAndJackson(cw, jw io.Writer, cb, jb []byte) ([]byte, []byte, error) {
	c, j := sink{w: cw, buf: cb[:0]}, sink{w: jw, buf: jb[:0]}
	for i := range o.Members {
		m := &o.Members[i]
		if m.flags&hasHigh != 0 || bytes.IndexByte(m.RawKey, '\\') >= 0 {
			if _, ok := appendUnquote(nil, m.RawKey, true); !ok {
				return c.buf, j.buf, errNoJackson
			}
		}
	}
	order := o.sorted(func(a, b *Member) int { return bytes.Compare(a.Key, b.Key) })
	c.byte('{')
	j.byte('{')
	first := true
	for _, i := range order {
		m := &o.Members[i]
		if m.flags&isNull != 0 {
			continue
		}
		if !first {
			c.byte(',')
			j.byte(',')
		}
		first = false
		c.buf = appendKey(c.buf, m.Key)
		c.byte(':')
		j.buf = appendKey(j.buf, m.Key)
		j.byte(':')
		v := m.Value
		switch {
		case m.flags&(hasEscape|hasSpace|hasFloat|hasHigh) == 0:
			c.write(v)
			j.write(v)
		case m.flags&(hasEscape|hasFloat|hasHigh) == 0: // spaces only
			c.compact(v)
			j.compact(v)
		default:
			if err := dualValue(&c, &j, v); err != nil {
				return c.flush(), j.flush(), err
			}
		}
	}
	c.byte('}')
	j.byte('}')
	return c.flush(), j.flush(), nil
}

// dualValue writes the valid JSON value v compacted to c and in the kit
// Jackson form to j, reading it once.
func dualValue(c, j *sink, v []byte) error {
	for i := 0; i < len(v); {
		switch ch := v[i]; {
		case ch == '"':
			end, err := j.jacksonStringAt(v, i)
			if err != nil {
				return err
			}
			c.write(v[i:end])
			i = end
		case ch == '-' || isDigit(ch):
			k := i + 1
			for k < len(v) && (isDigit(v[k]) || v[k] == '.' || v[k] == 'e' || v[k] == 'E' || v[k] == '+' || v[k] == '-') {
				k++
			}
			c.buf = append(c.buf, v[i:k]...)
			j.buf = appendJavaNumber(j.buf, v[i:k])
			i = k
		case isSpace(ch):
			i++
		default:
			k := i + 1
			for k < len(v) && v[k] != '"' && v[k] != '-' && !isDigit(v[k]) && !isSpace(v[k]) {
				k++
			}
			c.buf = append(c.buf, v[i:k]...)
			j.buf = append(j.buf, v[i:k]...)
			i = k
		}
		c.maybeFlush()
		j.maybeFlush()
	}
	return nil
}
