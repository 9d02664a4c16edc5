package canonjson

import (
	"crypto/rand"
	"math/big"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// javaOracle is String.compareTo by definition: UTF-16 code units.
func javaOracle(a, b string) int {
	return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
}

func TestCompareJava(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"", "", 0},
		{"", "a", -1},
		{"a", "", 1},
		{"activity", "authToken", -1},
		{"authToken", "activity", 1},
		{"timeStamp", "testFlag", 1},
		{"Z", "a", -1}, // upper case first, as in Java
		{"orderId", "orderID", 1},
		{"abc", "abcd", -1},
		{"é", "z", 1},
		// The case Go gets wrong: U+1F600 (UTF-16 D83D DE00) sorts before
		// U+FF21 (FULLWIDTH A) in Java, after it in Go's byte order.
		{"😀", "Ａ", -1},
		{"x😀", "xＡ", -1},
		{"\uE000", "\U00010000", 1},
		{"\uD7FF", "\U00010000", -1},
		{"\U00010000", "\U0010FFFF", -1},
		{"中", "中文", -1},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, CompareJava(tc.a, tc.b), "%q vs %q", tc.a, tc.b)
		assert.Equal(t, tc.want, javaOracle(tc.a, tc.b), "oracle %q vs %q", tc.a, tc.b)
	}
	assert.Equal(t, 1, strings.Compare("😀", "Ａ"), "Go byte order differs here, which is why CompareJava exists")
}

func TestCompareJavaMatchesOracleOnRandomStrings(t *testing.T) {
	t.Parallel()
	// Characters from every UTF-16 region, with a bias to shared prefixes.
	alphabet := []rune{'a', 'b', 'A', '_', 'é', '中', '\uD7FF', '\uE000', '\uFF21', '\uFFFF', 0x10000, 0x1F600, 0x10FFFF}
	gen := func() string {
		n := randInt(t, 6)
		r := make([]rune, n)
		for i := range r {
			r[i] = alphabet[randInt(t, len(alphabet))]
		}
		return string(r)
	}
	for range 5000 {
		a, b := gen(), gen()
		if randInt(t, 2) == 0 {
			b = a + b // shared prefix
		}
		require.Equal(t, javaOracle(a, b), CompareJava(a, b), "%q vs %q", a, b)
	}
}

func TestCompareJavaIsTotalOnInvalidUTF8(t *testing.T) {
	t.Parallel()
	// Invalid UTF-8 (which Java would read as U+FFFD) must still give a
	// strict total order, or a signer and a verifier could sort the same
	// names differently.
	s := []string{"\xe4\xb8", "\xe4\xb8\xad", "\xff", "\xfe", "\uFFFD", "a\xff", "a", "\xe4", "\U0001F600", "\uFF21"}
	for _, a := range s {
		assert.Equal(t, 0, CompareJava(a, a), "%q", a)
		for _, b := range s {
			assert.Equal(t, CompareJava(a, b), -CompareJava(b, a), "antisymmetry %q %q", a, b)
			if a != b {
				assert.NotEqual(t, 0, CompareJava(a, b), "distinct strings %q %q", a, b)
			}
			for _, c := range s {
				if CompareJava(a, b) < 0 && CompareJava(b, c) < 0 {
					assert.Negative(t, CompareJava(a, c), "transitivity %q %q %q", a, b, c)
				}
			}
		}
	}
	sorted := slices.Clone(s)
	slices.SortFunc(sorted, CompareJava[string])
	assert.True(t, sort.SliceIsSorted(sorted, func(i, j int) bool { return CompareJava(sorted[i], sorted[j]) < 0 }))
}

func randInt(t *testing.T, n int) int {
	t.Helper()
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	require.NoError(t, err)
	return int(v.Int64())
}
