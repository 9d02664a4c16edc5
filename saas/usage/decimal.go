package usage

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/isvkit/koogallery/internal/wire"
)

// Decimal limits of usage_value: at most 4 fractional digits and 20
// characters (the Chinese page types it String(20); the international one
// Double(12,4)).
const (
	MaxDecimals   = 4
	maxDecimalLen = 20
)

// Decimal is a usage amount: a positive decimal number with at most four
// fractional digits, held as its canonical decimal text so that nothing is
// lost between the seller's meter and the wire (a float64 cannot hold 0.1
// exactly; this type sends "0.1"). The zero Decimal is "no value" and is
// refused by the push calls. Build one with ParseDecimal, DecimalFromInt or
// DecimalFromFloat.
type Decimal struct{ text string }

// ParseDecimal parses plain decimal text: digits with at most one '.'
// followed by at most four significant fractional digits ("99", "0.5",
// "12.3400"). No sign, exponent, spaces or separators. The value must be
// greater than zero. It is normalised: "007.50" becomes "7.5".
func ParseDecimal(s string) (Decimal, error) {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") || !wire.Digits(intPart) || !wire.Digits(frac) {
		return Decimal{}, fmt.Errorf("usage: value %q is not a plain decimal number", clip(s))
	}
	intPart = strings.TrimLeft(intPart, "0")
	frac = strings.TrimRight(frac, "0")
	if len(frac) > MaxDecimals {
		return Decimal{}, fmt.Errorf("usage: value %q has more than %d decimals", clip(s), MaxDecimals)
	}
	if intPart == "" {
		intPart = "0"
	}
	text := intPart
	if frac != "" {
		text += "." + frac
	}
	if intPart == "0" && frac == "" {
		return Decimal{}, fmt.Errorf("usage: value %q is not greater than zero", clip(s))
	}
	if len(text) > maxDecimalLen {
		return Decimal{}, fmt.Errorf("usage: value %q is longer than %d characters", clip(s), maxDecimalLen)
	}
	return Decimal{text: text}, nil
}

// DecimalFromInt returns n as a Decimal; n must be positive.
func DecimalFromInt(n int64) (Decimal, error) {
	return ParseDecimal(strconv.FormatInt(n, 10))
}

// DecimalFromFloat returns f as a Decimal, taking the shortest decimal text
// that reads back as f (0.1 gives "0.1"). It fails when that text has more
// than four decimals (1e-5, 0.30000000000000004: round on purpose first),
// and for values that are not finite or not positive.
func DecimalFromFloat(f float64) (Decimal, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return Decimal{}, errors.New("usage: value is not a finite number")
	}
	if f <= 0 {
		return Decimal{}, fmt.Errorf("usage: value %v is not greater than zero", f)
	}
	return ParseDecimal(strconv.FormatFloat(f, 'f', -1, 64))
}

// MustDecimal is ParseDecimal for constants; it panics on invalid text.
func MustDecimal(s string) Decimal {
	d, err := ParseDecimal(s)
	if err != nil {
		panic(err)
	}
	return d
}

// String returns the canonical text ("" for the zero Decimal).
func (d Decimal) String() string { return d.text }

// IsZero reports whether d holds no value.
func (d Decimal) IsZero() bool { return d.text == "" }

// Float64 returns the nearest float64, for display and arithmetic that can
// afford rounding.
func (d Decimal) Float64() float64 {
	f, _ := strconv.ParseFloat(d.text, 64)
	return f
}

// MarshalJSON writes the value as a JSON string ("99"), the form of the
// documented example; the zero Decimal is null.
func (d Decimal) MarshalJSON() ([]byte, error) {
	if d.text == "" {
		return []byte("null"), nil
	}
	return []byte(`"` + d.text + `"`), nil
}

// UnmarshalJSON reads a JSON string or number (the international page types
// the field as a number); null gives the zero Decimal.
func (d *Decimal) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		*d = Decimal{}
		return nil
	}
	if len(s) >= 2 && s[0] == '"' {
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
	}
	v, err := ParseDecimal(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// clip shortens user input quoted in an error.
func clip(s string) string {
	if len(s) > 32 {
		return s[:32] + "…"
	}
	return s
}
