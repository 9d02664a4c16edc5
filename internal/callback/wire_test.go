package callback

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestScalar(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{`"abc"`, "abc", true},
		{`""`, "", true},
		{`"a\"b\u00e9"`, `a"bé`, true},
		{`0`, "0", true},
		{`-1.50`, "-1.50", true},
		{`true`, "true", true},
		{`null`, "", true},
		{`{"a":1}`, "", false},
		{`[1]`, "", false},
		{``, "", false},
	} {
		got, err := Scalar([]byte(tt.in))
		if tt.ok {
			assert.NoError(t, err, tt.in)
			assert.Equal(t, tt.want, got, tt.in)
		} else {
			assert.Error(t, err, tt.in)
		}
	}
}

func TestFlag(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]bool{"1": true, "true": true, "0": false, "false": false, "": false} {
		got, err := parseFlag(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"2", "yes", " 1", "01"} {
		_, err := parseFlag(in)
		assert.Error(t, err, in)
	}
}

func TestTime(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want time.Time
	}{
		{"20271231235959", time.Date(2027, 12, 31, 23, 59, 59, 0, time.UTC)},
		{"20221124023618256", time.Date(2022, 11, 24, 2, 36, 18, 256e6, time.UTC)},
		{"20240229T120000Z", time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)},
	} {
		got, err := Time(tt.in)
		require.NoError(t, err, tt.in)
		assert.True(t, tt.want.Equal(got), "%s: %v", tt.in, got)
		assert.Equal(t, time.UTC, got.Location())
	}
	for _, in := range []string{"", "2027123123595", "202712312359590", "20271331235959", "20230229000000", "20271231245959",
		"2027-12-31 23:5", "2027123123595x", "2027123123595912x", "20240229X120000Z", "1795768200123"} {
		_, err := Time(in)
		assert.Error(t, err, in)
	}
}

func TestAppendTime(t *testing.T) {
	t.Parallel()
	tm := time.Date(2026, 1, 2, 3, 4, 5, 6e6, time.FixedZone("GMT+8", 8*3600))
	assert.Equal(t, "20260101190405006", string(AppendTime(nil, tm)))
	back, err := Time(string(AppendTime(nil, tm)))
	require.NoError(t, err)
	assert.True(t, tm.Equal(back))
}

func TestAppendString(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"plain":           `"plain"`,
		`q"b\`:            `"q\"b\\"`,
		"l\n\r\t\x01\x7f": `"l\n\r\t\u0001` + "\x7f" + `"`,
		"中文":              `"\u4e2d\u6587"`,
		"😀":               `"\ud83d\ude00"`,
		"bad\xffutf8":     `"bad\ufffdutf8"`,
		"</script>&":      `"</script>&"`,
		"\u2028":          `"\u2028"`,
	} {
		assert.Equal(t, want, string(AppendString(nil, in)), "%q", in)
	}
}

// appendStringByByte is AppendString without the eight-byte fast path.
func appendStringByByte(s string) string {
	var b strings.Builder
	for _, r := range s {
		q := AppendString(nil, string(r))
		b.Write(q[1 : len(q)-1])
	}
	return `"` + b.String() + `"`
}

// The eight-byte fast path copies exactly the bytes the byte loop copies:
// every byte value, at every place in a word, in strings of 8 to 24 bytes.
func TestAppendStringWords(t *testing.T) {
	t.Parallel()
	for n := 8; n <= 24; n += 5 {
		for p := range n {
			for c := range 256 {
				s := []byte(strings.Repeat("abcdefgh", 3)[:n])
				s[p] = byte(c)
				if c >= 0x80 {
					s[p], s = 0xC3, append(s[:p+1], append([]byte{byte(0x80 | c&0x3F)}, s[p+1:]...)...) // valid UTF-8
				}
				require.Equal(t, appendStringByByte(string(s)), string(AppendString(nil, string(s))), "%q", s)
			}
		}
	}
}

func TestClassify(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		err       error
		code, msg string
		ok        bool
	}{
		{"plain error", errors.New("db down: password=hunter2"), CodeInternal, "internal error", false},
		{"result error", &Error{Code: "000100", Message: "no resource"}, "000100", "no resource", true},
		{"wrapped", fmt.Errorf("provision: %w", &Error{Code: CodeNotFound, Message: "gone"}), CodeNotFound, "gone", true},
		{"default message", &Error{Code: CodeInvalid}, CodeInvalid, "invalid parameter", true},
		{"success code is not a failure", &Error{Code: CodeSuccess, Message: "ok"}, CodeInternal, "internal error", false},
		{"bad code", &Error{Code: "12345x", Message: "x"}, CodeInternal, "internal error", false},
		{"long message", &Error{Code: "000104", Message: strings.Repeat("é", 200)}, "000104", strings.Repeat("é", 127), true},
	} {
		code, msg, ok := classify(tt.err)
		assert.Equal(t, tt.code, code, tt.name)
		assert.Equal(t, tt.msg, msg, tt.name)
		assert.Equal(t, tt.ok, ok, tt.name)
	}
}

func TestFieldsDecode(t *testing.T) {
	t.Parallel()
	var f Fields
	require.NoError(t, f.Decode([]byte(`{"activity":"newInstance","orderId":"O1","orderId":"O2","orderLineId":7,`+
		`"license":null,"testFlag":0,"buyerInfo":{"orderId":"nested"},"scene":"\u0052ENEWAL"}`)))
	assert.Equal(t, Fields{Activity: "newInstance", OrderID: "O2", OrderLineID: "7", TestFlag: "0", Scene: "RENEWAL"}, f)

	// Small bodies share one copy, large ones copy each field: both decode
	// alike, and neither aliases the caller's buffer.
	for _, pad := range []int{0, sharedBodyMax} {
		body := []byte(`{"pad":"` + strings.Repeat("x", pad) + `","activity":"newInstance","orderId":"O\"1",` +
			`"businessId":"","instanceId":"i-1","testFlag":"1"}`)
		var f Fields
		require.NoError(t, f.Decode(body))
		want := Fields{Activity: "newInstance", OrderID: `O"1`, InstanceID: "i-1", TestFlag: "1"}
		assert.Equal(t, want, f, "pad %d", pad)
		clear(body)
		assert.Equal(t, want, f, "pad %d: the fields alias the body", pad)
	}

	for body, msg := range map[string]string{
		`{"orderId":{"a":1}}`: "invalid orderId",
		`{"status":[1]}`:      "invalid status",
		`[]`:                  "request body is not a JSON object",
		`{"a":}`:              "request body is not a JSON object",
		``:                    "request body is not a JSON object",
	} {
		var f Fields
		err := f.Decode([]byte(body))
		var e *Error
		require.ErrorAs(t, err, &e, body)
		assert.Equal(t, CodeInvalid, e.Code, body)
		assert.Equal(t, msg, e.Message, body)
	}
}
