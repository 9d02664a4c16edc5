// Package canonjson produces the forms of a JSON object that KooGallery's
// V2 callbacks (SaaS V2 basic, License 2.0, order notification, and the
// joint-operation kit's x-sign) may be signed over, and walks the top-level
// members of a JSON object without building a map.
//
// Huawei's V2 demo (IsvProduceAPI.verifySignature) binds the body with
// Jackson, copies it into a TreeMap, drops null members and writes it back
// with a default ObjectMapper before hashing. Re-serialising decodes every
// string and re-escapes it Jackson's way (\uXXXX and \/ become the
// characters they stand for; only '"', '\\' and control characters are
// escaped), and writes numbers as Java writes the value it read (1e2 as
// 100.0, -0 as 0). That is the Jackson form (WriteJackson); the canonical
// form (Append) keeps every value exactly as received, compacted; both sort
// the top-level members and drop null ones. Verifiers try the raw bytes
// first, then these forms.
package canonjson

import (
	"bytes"
	"crypto/sha256"
	"hash"
	"io"
	"slices"
	"sync"
	"unicode/utf8"
)

// MaxMembers bounds the top-level members of an object whose sorted forms
// are built: KooGallery's bodies have at most a dozen, and sorting is the
// one step whose cost grows faster than the body. A larger object has no
// sorted form (Parse fails); the raw bytes can still be verified.
const MaxMembers = 1024

// Member is a top-level member of a parsed object.
type Member struct {
	// Key is the decoded name (encoding/json's decoding); it aliases the
	// source when the name has no escapes.
	Key []byte
	// RawKey is the name's string literal as received, quotes included.
	RawKey []byte
	// Value is the member's JSON text as received, without surrounding
	// space.
	Value    []byte
	flags    uint8
	keyFlags uint8
}

// Object is a JSON object parsed for signing: its top-level members in the
// order received and what they contain.
type Object struct {
	Members []Member
	// flags of every key and value together; topSpace: whitespace between
	// top-level tokens.
	flags    uint8
	topSpace bool
	scratch  []byte // decoded keys with escapes; earlier keys keep the old array
	order    []int
	order2   []int
}

// Parse validates src as a single JSON object (exactly what json.Valid
// accepts) with at most MaxMembers top-level members and returns its
// members into o, reusing o's storage. Keys and values alias src.
func (o *Object) Parse(src []byte) error {
	o.Members, o.flags, o.topSpace, o.scratch = o.Members[:0], 0, false, o.scratch[:0]
	err := scanObject(src, func(rawKey []byte, keyFlags uint8, value []byte, valueFlags uint8) error {
		if len(o.Members) == MaxMembers {
			return errTooMany
		}
		o.Members = append(o.Members, Member{RawKey: rawKey, Value: value, flags: valueFlags | keyFlags&^hasSpace, keyFlags: keyFlags})
		o.flags |= keyFlags | valueFlags
		return nil
	}, &o.topSpace)
	if err != nil {
		return err
	}
	// Decode the keys now that the scratch buffer no longer moves.
	for i := range o.Members {
		m := &o.Members[i]
		if key := m.RawKey[1 : len(m.RawKey)-1]; plainKey(key, m.keyFlags) {
			m.Key = key
			continue
		}
		start := len(o.scratch)
		o.scratch, _ = appendUnquote(o.scratch, m.RawKey, false)
		m.Key = o.scratch[start:len(o.scratch):len(o.scratch)]
	}
	return nil
}

// plainKey reports whether a key's literal contents are its decoded text:
// no escapes, valid UTF-8. flags are the key's, from scanString.
func plainKey(key []byte, flags uint8) bool {
	if flags&(hasEscape|hasHigh) == 0 {
		return true
	}
	return flags&hasEscape == 0 && utf8.Valid(key)
}

// Release drops the object's references to the source it was parsed from,
// and storage too large to keep, so that it can be pooled.
func (o *Object) Release() {
	clear(o.Members)
	o.Members = o.Members[:0]
	if cap(o.scratch) > 64<<10 {
		o.scratch = nil
	}
}

// scanObject validates src as one JSON object and calls fn for each
// top-level member, in order, as it goes: fn may see members of a document
// found invalid later, and the error is returned then.
func scanObject(src []byte, fn func(rawKey []byte, keyFlags uint8, value []byte, valueFlags uint8) error, topSpace *bool) error {
	i := skipSpace(src, 0)
	space := i > 0
	if i >= len(src) || src[i] != '{' {
		if i < len(src) && validValue(src, i) {
			return errNotObject
		}
		return errInvalid
	}
	j := i + 1
	i = skipSpace(src, j)
	space = space || i != j
	if i < len(src) && src[i] == '}' {
		i++
	} else {
		for {
			var kf, vf uint8
			if i >= len(src) || src[i] != '"' {
				return errInvalid
			}
			end := scanString(src, i, &kf)
			if end < 0 {
				return errInvalid
			}
			rawKey := src[i:end]
			j = end
			i = skipSpace(src, end)
			space = space || i != j
			if i >= len(src) || src[i] != ':' {
				return errInvalid
			}
			j = i + 1
			i = skipSpace(src, j)
			space = space || i != j
			end = scanValue(src, i, 1, &vf)
			if end < 0 {
				return errInvalid
			}
			switch src[i] {
			case 'n':
				vf |= isNull
			case 't', 'f', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
				vf |= isScalar
			}
			if err := fn(rawKey, kf, src[i:end], vf); err != nil {
				return err
			}
			j = end
			i = skipSpace(src, end)
			space = space || i != j
			if i >= len(src) {
				return errInvalid
			}
			if src[i] == '}' {
				i++
				break
			}
			if src[i] != ',' {
				return errInvalid
			}
			j = i + 1
			i = skipSpace(src, j)
			space = space || i != j
		}
	}
	j = i
	i = skipSpace(src, i)
	space = space || i != j
	if i != len(src) {
		return errInvalid
	}
	if topSpace != nil {
		*topSpace = space
	}
	return nil
}

// validValue reports whether src[i:] is one valid JSON value, for telling
// "not an object" from "not JSON".
func validValue(src []byte, i int) bool {
	var f uint8
	end := scanValue(src, i, 0, &f)
	return end >= 0 && skipSpace(src, end) == len(src)
}

// Scan validates that src is a single JSON object and calls fn for each of
// its top-level members in the order received. key is the decoded member name
// and value the member's JSON text, trimmed of surrounding whitespace but
// otherwise as received; both may alias src and are valid only during the
// call. Scan stops at, and returns, the first error fn returns. Scan reads
// src once: fn may be called for members before a syntax error further on
// is found and returned, so a caller must discard what fn saw when Scan
// fails.
func Scan(src []byte, fn func(key, value []byte) error) error {
	var buf []byte
	return scanObject(src, func(rawKey []byte, keyFlags uint8, value []byte, _ uint8) error {
		key := rawKey[1 : len(rawKey)-1]
		if !plainKey(key, keyFlags) {
			buf, _ = appendUnquote(buf[:0], rawKey, false)
			key = buf
		}
		return fn(key, value)
	}, nil)
}

// Append appends the canonical form of the JSON object src to dst and
// returns the extended buffer: the top-level members sorted byte-wise by
// decoded name, the last of a repeated name kept, null members dropped, every
// value compacted but otherwise exactly as received (nested order, number
// literals, string escapes), names written as Jackson writes them. It fails,
// without panicking, when src is not a single valid JSON object or has more
// than MaxMembers members.
func Append(dst, src []byte) ([]byte, error) {
	var o Object
	if err := o.Parse(src); err != nil {
		return dst, err
	}
	w := sink{buf: dst}
	o.write(&w, formCanonical)
	return w.buf, nil
}

// AppendQuotedScalars is Append with every top-level number and boolean
// written as a JSON string holding its literal text ("testFlag":0 becomes
// "testFlag":"0"), as the demo's Map<String,String> binding of the basic
// interface's body would sign it; WriteJackson's BasicForm also decodes and
// re-escapes the strings.
func AppendQuotedScalars(dst, src []byte) ([]byte, error) {
	var o Object
	if err := o.Parse(src); err != nil {
		return dst, err
	}
	w := sink{buf: dst}
	o.write(&w, formQuoted)
	return w.buf, nil
}

type form uint8

const (
	formCanonical form = iota
	formQuoted
)

// WriteCanonical writes the canonical form (see Append) to w through buf, a
// scratch buffer it returns for reuse.
func (o *Object) WriteCanonical(w io.Writer, buf []byte) []byte {
	s := sink{w: w, buf: buf[:0]}
	o.write(&s, formCanonical)
	return s.flush()
}

// WriteQuotedScalars writes the form of AppendQuotedScalars to w.
func (o *Object) WriteQuotedScalars(w io.Writer, buf []byte) []byte {
	s := sink{w: w, buf: buf[:0]}
	o.write(&s, formQuoted)
	return s.flush()
}

// CanonicalIsRaw reports whether the canonical form of the object is src,
// the bytes it was parsed from, exactly.
func (o *Object) CanonicalIsRaw() bool {
	if o.topSpace || o.flags&hasSpace != 0 {
		return false
	}
	for i := range o.Members {
		m := &o.Members[i]
		// A key with an escape or invalid UTF-8 is written decoded and
		// re-escaped (invalid UTF-8 as U+FFFD), not as received.
		if m.flags&isNull != 0 || !plainKey(m.RawKey[1:len(m.RawKey)-1], m.keyFlags) {
			return false
		}
		if i > 0 && bytes.Compare(o.Members[i-1].Key, m.Key) >= 0 {
			return false
		}
	}
	return true
}

// HasBareScalars reports whether a top-level member is a number or a
// boolean, that is whether the quoted form differs from the canonical one.
func (o *Object) HasBareScalars() bool {
	for i := range o.Members {
		if o.Members[i].flags&isScalar != 0 {
			return true
		}
	}
	return false
}

func (o *Object) write(w *sink, f form) {
	order := o.sorted(func(a, b *Member) int { return bytes.Compare(a.Key, b.Key) })
	w.byte('{')
	first := true
	for _, i := range order {
		m := &o.Members[i]
		if m.flags&isNull != 0 {
			continue
		}
		if !first {
			w.byte(',')
		}
		first = false
		w.buf = appendKey(w.buf, m.Key)
		w.byte(':')
		switch {
		case f == formQuoted && m.flags&isScalar != 0:
			w.byte('"')
			w.write(m.Value)
			w.byte('"')
		case m.flags&hasSpace == 0:
			w.write(m.Value)
		default:
			w.compact(m.Value)
		}
	}
	w.byte('}')
}

// SortedJava returns the indices of the members sorted by name in Java's
// String order, only the last of a repeated name kept (the member a Java
// Map keeps). The slice is o's, valid until o is used again.
func (o *Object) SortedJava() []int {
	return o.sorted(func(a, b *Member) int { return CompareJava(a.Key, b.Key) })
}

// IsNull, IsString report what a member's value is.
func (m *Member) IsNull() bool { return m.flags&isNull != 0 }

// IsString reports whether the member's value is a JSON string.
func (m *Member) IsString() bool { return m.Value[0] == '"' }

// sorted returns the indices of the members in the order cmp gives, with
// only the last of each run of equal names (the value a Map keeps).
func (o *Object) sorted(cmp func(a, b *Member) int) []int {
	order := o.order[:0]
	for i := range o.Members {
		order = append(order, i)
	}
	o.order = order
	slices.SortStableFunc(order, func(a, b int) int { return cmp(&o.Members[a], &o.Members[b]) })
	out := order[:0]
	for k, i := range order {
		if k+1 < len(order) && bytes.Equal(o.Members[i].Key, o.Members[order[k+1]].Key) {
			continue // a later duplicate wins
		}
		out = append(out, i)
	}
	return out
}

// sink collects output and, when w is set, passes it on in chunks.
type sink struct {
	w   io.Writer
	buf []byte
}

const chunk = 4 << 10

func (s *sink) byte(c byte) { s.buf = append(s.buf, c) }

// write appends p, passing large pieces on without copying.
func (s *sink) write(p []byte) {
	if s.w != nil && len(p) >= chunk {
		s.flush()
		s.w.Write(p) // hash.Hash never fails
		return
	}
	s.buf = append(s.buf, p...)
	s.maybeFlush()
}

func (s *sink) maybeFlush() {
	if s.w != nil && len(s.buf) >= chunk {
		s.flush()
	}
}

func (s *sink) flush() []byte {
	if s.w != nil && len(s.buf) > 0 {
		s.w.Write(s.buf)
		s.buf = s.buf[:0]
	}
	return s.buf
}

// compact appends the valid JSON value v without insignificant whitespace,
// leaving string contents (escapes included) untouched.
func (s *sink) compact(v []byte) {
	start := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			i = stringEnd(v, i) - 1
		case ' ', '\t', '\n', '\r':
			s.buf = append(s.buf, v[start:i]...)
			s.maybeFlush()
			start = i + 1
		}
	}
	s.write(v[start:])
}

// AppendCompact appends the valid JSON value v without insignificant
// whitespace; like json.Compact, it leaves string contents untouched.
func AppendCompact(dst, v []byte) []byte {
	s := sink{buf: dst}
	s.compact(v)
	return s.buf
}

// Unquote appends the decoded contents of the string literal lit, which
// must be valid JSON (a value Scan or Parse returned), decoding as
// encoding/json does.
func Unquote(dst, lit []byte) []byte {
	dst, _ = appendUnquote(dst, lit, false)
	return dst
}

// stringEnd returns the index just past the valid string literal at src[i].
func stringEnd(src []byte, i int) int {
	var high uint64
	for i++; ; i++ {
		i = plainRun(src, i, &high)
		switch src[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
}

const hexUpper = "0123456789ABCDEF"

// appendKey appends key as a JSON string the way Jackson writes it: '"' and
// '\\' escaped, control characters as \b \t \n \f \r or \u00XX (upper-case
// hex), everything else, non-ASCII included, raw.
func appendKey(dst, key []byte) []byte {
	dst = append(dst, '"')
	dst = appendJacksonText(dst, key)
	return append(dst, '"')
}

// appendJacksonText appends the decoded text s escaped as Jackson escapes
// string contents.
func appendJacksonText(dst, s []byte) []byte {
	start := 0
	for i, c := range s {
		if c >= 0x20 && c != '"' && c != '\\' {
			continue
		}
		dst = append(dst, s[start:i]...)
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
	return append(dst, s[start:]...)
}

// Sum256 returns the SHA-256 of src's canonical form (see Append), or of
// src itself when src is not an object Append accepts. The form is
// streamed into a pooled hash from a pooled parse, so that a de-duplication
// key costs no allocation.
func Sum256(src []byte) [sha256.Size]byte {
	c := sumPool.Get().(*canonicalHasher)
	defer sumPool.Put(c)
	c.h.Reset()
	if c.o.Parse(src) != nil {
		c.h.Write(src)
	} else {
		c.buf = c.o.WriteCanonical(c.h, c.buf)
	}
	c.o.Release()
	c.sum = c.h.Sum(c.sum[:0])
	return [sha256.Size]byte(c.sum)
}

type canonicalHasher struct {
	h   hash.Hash
	o   Object
	buf []byte
	sum []byte
}

var sumPool = sync.Pool{New: func() any { return &canonicalHasher{h: sha256.New()} }}
