// Package wire holds the tolerant JSON decoding the KooGallery APIs need:
// numbers that arrive as strings (and the reverse), nulls for strings, and
// the several compact time layouts.
package wire

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Int decodes a JSON number or a string holding one; null and "" are 0.
type Int int64

// UnmarshalJSON implements json.Unmarshaler.
func (n *Int) UnmarshalJSON(b []byte) error {
	s, err := scalar(b)
	if err != nil {
		return err
	}
	if s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		// Tolerate integral decimals such as 1.0.
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil || f != float64(int64(f)) {
			return errors.New("wire: not an integer")
		}
		v = int64(f)
	}
	*n = Int(v)
	return nil
}

// String decodes a JSON string, number or boolean as text; null is "".
type String string

// UnmarshalJSON implements json.Unmarshaler.
func (s *String) UnmarshalJSON(b []byte) error {
	v, err := scalar(b)
	if err != nil {
		return err
	}
	*s = String(v)
	return nil
}

// scalar returns the text of a JSON string, number, boolean or null.
func scalar(b []byte) (string, error) {
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return "", errors.New("wire: empty value")
	case b[0] == '"':
		// Fast path: no escapes to decode.
		if len(b) >= 2 && b[len(b)-1] == '"' && bytes.IndexByte(b[1:len(b)-1], '\\') < 0 &&
			bytes.IndexByte(b[1:len(b)-1], '"') < 0 && utf8.Valid(b[1:len(b)-1]) && !hasControl(b[1:len(b)-1]) {
			return strings.TrimSpace(string(b[1 : len(b)-1])), nil
		}
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return "", err
		}
		return strings.TrimSpace(s), nil
	case string(b) == "null":
		return "", nil
	case b[0] == '{' || b[0] == '[':
		return "", errors.New("wire: want a scalar, got an object or array")
	}
	return string(b), nil
}

// Time layouts used by KooGallery.
const (
	LayoutSeconds = "20060102150405"     // yyyyMMddHHmmss
	LayoutMillis  = "20060102150405.000" // yyyyMMddHHmmssSSS, with the dot removed
	LayoutISO     = "20060102T150405Z"   // yyyyMMdd'T'HHmmss'Z'
)

// ParseTime parses the compact layouts KooGallery uses, in loc (UTC when
// nil): yyyyMMddHHmmss (14 digits), yyyyMMddHHmmssSSS (17 digits),
// yyyyMMdd'T'HHmmss'Z' (always UTC) and epoch milliseconds (13 digits). The
// result is in UTC. "" gives the zero time.
func ParseTime(s string, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return time.Time{}, nil
	case len(s) == 16 && s[8] == 'T' && s[15] == 'Z':
		return time.Parse(LayoutISO, s)
	case !Digits(s):
	case len(s) == 14:
		t, err := time.ParseInLocation(LayoutSeconds, s, loc)
		return t.UTC(), err
	case len(s) == 17:
		t, err := time.ParseInLocation(LayoutMillis, s[:14]+"."+s[14:], loc)
		return t.UTC(), err
	case len(s) == 13:
		ms, err := strconv.ParseInt(s, 10, 64)
		return time.UnixMilli(ms).UTC(), err
	}
	return time.Time{}, errors.New("wire: unknown time layout")
}

func hasControl(b []byte) bool {
	for _, c := range b {
		if c < 0x20 {
			return true
		}
	}
	return false
}

// Digits reports whether every byte of s is an ASCII digit ("" is true).
func Digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Time decodes a string (or number) in one of ParseTime's layouts as UTC.
type Time time.Time

// UnmarshalJSON implements json.Unmarshaler.
func (t *Time) UnmarshalJSON(b []byte) error {
	s, err := scalar(b)
	if err != nil {
		return err
	}
	v, err := ParseTime(s, time.UTC)
	if err != nil {
		return err
	}
	*t = Time(v)
	return nil
}

// FormatSeconds formats t as yyyyMMddHHmmss in UTC; the zero time is "".
func FormatSeconds(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(LayoutSeconds)
}

// Text returns the text of a JSON scalar as String reads it, and "" for
// anything else (absent, an object, an array, invalid JSON).
func Text(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s String
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return string(s)
}
