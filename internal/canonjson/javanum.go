package canonjson

import (
	"math"
	"strconv"
)

// appendJavaNumber appends the JSON number literal num as Jackson writes it
// back after reading it into a Map<String,Object> (or a JsonNode) with a
// default ObjectMapper: an integer literal becomes an Integer, Long or
// BigInteger and is written with the same digits ("-0" as "0"); any literal
// with a fraction or an exponent becomes a Double and is written as
// Double.toString writes it ("1e2" as "100.0", "-0.0" as "-0.0", "1E-7" as
// "1.0E-7"). A Double that overflows is written as the string "Infinity" or
// "-Infinity", as Jackson's default QUOTE_NON_NUMERIC_NUMBERS does. num must
// be a valid JSON number.
func appendJavaNumber(dst, num []byte) []byte {
	float := false
	for _, c := range num {
		if c == '.' || c == 'e' || c == 'E' {
			float = true
			break
		}
	}
	if !float {
		if len(num) == 2 && num[0] == '-' && num[1] == '0' {
			return append(dst, '0')
		}
		return append(dst, num...)
	}
	f, _ := strconv.ParseFloat(string(num), 64) // valid JSON: only ErrRange, with ±Inf
	return appendJavaDouble(dst, f)
}

// appendJavaDouble appends f as Java's Double.toString writes it (JDK 19
// and later, and Jackson's fast double writer): the shortest decimal that
// reads back as f, with at least two significant digits when one would do
// and the closer of the two candidates then; plain notation with at least
// one fraction digit for 10⁻³ ≤ |f| < 10⁷, otherwise d.dddE±n.
//
// Not documented anywhere: JDK 17 and earlier use an older algorithm that, for some values,
// writes a longer decimal than the shortest; the KooGallery side's JDK is
// unknown. Kit bodies carry no fractional numbers in any documented field.
func appendJavaDouble(dst []byte, f float64) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(dst, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(dst, `"-Infinity"`...)
	case math.IsNaN(f):
		return append(dst, `"NaN"`...)
	case f == 0:
		if math.Signbit(f) {
			return append(dst, "-0.0"...)
		}
		return append(dst, "0.0"...)
	}
	if f < 0 {
		dst = append(dst, '-')
		f = -f
	}
	var buf, buf2 [32]byte
	digits, exp := shortestDigits(buf[:0], f)
	if len(digits) == 1 {
		digits, exp = twoDigits(buf2[:0], f, digits, exp)
	}
	// digits d1 d2 … dn with the decimal point after d1, times 10^exp.
	if exp >= -3 && exp < 7 {
		if exp < 0 {
			dst = append(dst, '0', '.')
			for i := -1; i > exp; i-- {
				dst = append(dst, '0')
			}
			return append(dst, digits...)
		}
		intLen := exp + 1
		if len(digits) <= intLen {
			dst = append(dst, digits...)
			for i := len(digits); i < intLen; i++ {
				dst = append(dst, '0')
			}
			return append(dst, '.', '0')
		}
		dst = append(dst, digits[:intLen]...)
		dst = append(dst, '.')
		return append(dst, digits[intLen:]...)
	}
	dst = append(dst, digits[0], '.')
	if len(digits) == 1 {
		dst = append(dst, '0')
	} else {
		dst = append(dst, digits[1:]...)
	}
	dst = append(dst, 'E')
	return strconv.AppendInt(dst, int64(exp), 10)
}

// shortestDigits returns the shortest decimal digits of f > 0 (no trailing
// zeros) and the exponent of the first digit.
func shortestDigits(buf []byte, f float64) ([]byte, int) {
	s := strconv.AppendFloat(buf, f, 'e', -1, 64) // d.ddde±xx
	return splitE(s)
}

func splitE(s []byte) ([]byte, int) {
	e := len(s) - 1
	for s[e] != 'e' {
		e--
	}
	exp, _ := strconv.Atoi(string(s[e+1:]))
	mant := s[:e]
	if len(mant) > 1 { // drop the '.'
		copy(mant[1:], mant[2:])
		mant = mant[:len(mant)-1]
	}
	for len(mant) > 1 && mant[len(mant)-1] == '0' {
		mant = mant[:len(mant)-1]
	}
	return mant, exp
}

// twoDigits applies Double.toString's rule for a double whose shortest
// decimal has one digit: of the two-digit decimals that read back as f, the
// one closest to f (Double.MIN_VALUE is 4.9E-324, not 5E-324); the one digit
// itself (as d.0) if it is the closest.
func twoDigits(buf []byte, f float64, one []byte, exp int) ([]byte, int) {
	s := strconv.AppendFloat(buf, f, 'e', 1, 64) // correctly rounded to two digits
	if g, err := strconv.ParseFloat(string(s), 64); err != nil || g != f {
		return one, exp
	}
	return splitE(s)
}
