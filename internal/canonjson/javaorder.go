package canonjson

import (
	"bytes"
	"cmp"
	"unicode/utf8"
)

// CompareJava orders strings (as UTF-8) like Java's String.compareTo, the
// order of a TreeMap<String,…>: lexicographic over UTF-16 code units. Byte
// order on UTF-8 is code-point order, which differs in one case: a
// supplementary character (a surrogate pair, D800–DFFF) sorts before
// U+E000–U+FFFF in UTF-16 but after them by code point.
//
// Invalid UTF-8 bytes count as U+FFFD, which is what a Java UTF-8 decoder
// makes of them; strings that differ only there are ordered by bytes, so the
// order stays total.
func CompareJava[S ~string | ~[]byte](a, b S) int {
	// Fast path: the strings agree on an ASCII prefix and then one ends or
	// shows an ASCII byte. Both then sit on a character boundary, and an
	// ASCII byte is below every other code unit, so byte order is Java order.
	n := min(len(a), len(b))
	var high byte
	i := 0
	for ; i < n && a[i] == b[i]; i++ {
		high |= a[i]
	}
	if high < utf8.RuneSelf {
		if i == n {
			return cmp.Compare(len(a), len(b))
		}
		if a[i] < utf8.RuneSelf || b[i] < utf8.RuneSelf {
			return cmp.Compare(a[i], b[i])
		}
	}
	return compareJavaSlow([]byte(a), []byte(b))
}

func compareJavaSlow(a, b []byte) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ra, na := utf8.DecodeRune(a[i:])
		rb, nb := utf8.DecodeRune(b[j:])
		if c := cmp.Compare(utf16Rank(ra), utf16Rank(rb)); c != 0 {
			return c
		}
		i += na
		j += nb
	}
	// One string's characters are a prefix of the other's: shorter first.
	if c := cmp.Compare(len(a)-i, len(b)-j); c != 0 {
		return c
	}
	return bytes.Compare(a, b)
}

// utf16Rank maps a rune to a value whose order is the UTF-16 order of the
// rune's encoding: U+E000–U+FFFF move above every supplementary rune (whose
// high surrogate, D800–DBFF, is below E000). Supplementary runes keep their
// code-point order, as do their surrogate pairs.
func utf16Rank(r rune) rune {
	if r >= 0xE000 && r <= 0xFFFF {
		return r + utf8.MaxRune + 1
	}
	return r
}
