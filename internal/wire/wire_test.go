package wire

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseTime(t *testing.T) {
	t.Parallel()
	cst := time.FixedZone("CST", 8*3600)
	cases := []struct {
		in   string
		loc  *time.Location
		want time.Time
	}{
		{"20241121090846", nil, time.Date(2024, 11, 21, 9, 8, 46, 0, time.UTC)},
		{"20221124023618256", nil, time.Date(2022, 11, 24, 2, 36, 18, 256e6, time.UTC)},
		{"20261127163000123", cst, time.Date(2026, 11, 27, 8, 30, 0, 123e6, time.UTC)},
		{"20240315T083000Z", cst, time.Date(2024, 3, 15, 8, 30, 0, 0, time.UTC)},
		{"1795768200123", nil, time.UnixMilli(1795768200123).UTC()},
		{" 20241121090846 ", nil, time.Date(2024, 11, 21, 9, 8, 46, 0, time.UTC)},
		{"", nil, time.Time{}},
	}
	for _, c := range cases {
		got, err := ParseTime(c.in, c.loc)
		require.NoError(t, err, c.in)
		assert.True(t, c.want.Equal(got), "%q: %v", c.in, got)
		assert.Equal(t, time.UTC, got.Location())
	}
	for _, bad := range []string{"2024", "20241321090846", "2024112109084x", "20240315T083000", "abcdefghijklmn", "202411210908461"} {
		_, err := ParseTime(bad, nil)
		assert.Error(t, err, bad)
	}
}

func TestFlexibleScalars(t *testing.T) {
	t.Parallel()
	var v struct {
		A, B, C, D Int
		S, N, T, U String
		X          Time
	}
	require.NoError(t, json.Unmarshal([]byte(`{"A":1,"B":"2","C":null,"D":"3.0","S":"s","N":12.50,"T":true,"U":null,"X":"20241121090846"}`), &v))
	assert.Equal(t, Int(1), v.A)
	assert.Equal(t, Int(2), v.B)
	assert.Equal(t, Int(0), v.C)
	assert.Equal(t, Int(3), v.D)
	assert.Equal(t, String("s"), v.S)
	assert.Equal(t, String("12.50"), v.N)
	assert.Equal(t, String("true"), v.T)
	assert.Equal(t, String(""), v.U)
	assert.Equal(t, time.Date(2024, 11, 21, 9, 8, 46, 0, time.UTC), time.Time(v.X))
	for _, bad := range []string{`{"A":"x"}`, `{"A":1.5}`, `{"A":[1]}`, `{"S":{}}`, `{"X":"nope"}`} {
		assert.Error(t, json.Unmarshal([]byte(bad), &v), bad)
	}
	assert.Equal(t, "", FormatSeconds(time.Time{}))
	assert.Equal(t, "20241121010846", FormatSeconds(time.Date(2024, 11, 21, 9, 8, 46, 0, time.FixedZone("CST", 8*3600))))
}

func FuzzParseTime(f *testing.F) {
	for _, s := range []string{"20241121090846", "20221124023618256", "20240315T083000Z", "1795768200123", "", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseTime(s, nil)
		if err == nil && !got.IsZero() && got.Location() != time.UTC {
			t.Fatalf("%q parsed to non-UTC %v", s, got)
		}
	})
}

// FuzzString checks the fast path of String against encoding/json.
func FuzzString(f *testing.F) {
	for _, s := range []string{`"abc"`, `"a\"b"`, `"\u00e9"`, `"é"`, "\"\x01\"", `" x "`, `12`, `null`, `"\ud800"`, "\"\xff\""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var want string
		if json.Unmarshal(b, &want) != nil {
			return
		}
		var got String
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%q: %v", b, err)
		}
		if string(got) != strings.TrimSpace(want) {
			t.Fatalf("%q: got %q want %q", b, got, want)
		}
	})
}
