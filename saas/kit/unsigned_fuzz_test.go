package kit_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/callbacktest"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/kit"
)

// Adding any member the signature does not cover to a genuinely signed kit
// body never changes the request the provider gets: the call is either
// refused (the member changed what was signed) or decoded exactly as
// without it. Unsigned members are null ones (V1 and V2) and blank strings
// (V1), under any name, before or after the signed members.
func FuzzUnsignedMemberChangesNothing(f *testing.F) {
	names := []string{"tenantSync", "applicationSync", "authSync", "singleOrgSync", "allOrgSync"}
	for i := range names {
		for _, name := range []string{"orgInfoList", "orgName", "name", "userList", "tenantCode", "flag", "timeStamp", "orgInfo", "x"} {
			f.Add(uint8(i), name, "null", i%2 == 0, i%3 == 0)
			f.Add(uint8(i), name, `"   "`, i%2 == 1, true)
			f.Add(uint8(i), name, `"\u3000"`, false, true)
		}
	}
	blanks := []string{`null`, `""`, `" "`, `"\t\n\r"`, `"\u3000"`, `"\u2028"`, `"\u001f"`}
	f.Fuzz(func(t *testing.T, iface uint8, member, value string, atEnd, useV1 bool) {
		if len(member) > 64 {
			return
		}
		name := names[int(iface)%len(names)]
		if !isBlankValue(value, blanks) {
			value = blanks[len(value)%len(blanks)]
		}
		if !useV1 && value != "null" {
			value = "null" // V2 signs blank strings; only null is unsigned
		}
		clk := koogallerytest.NewClock(specKitTime)
		p := &kitProvider{}
		h := kit.NewHandler(accessKey, p, callback.WithLogger(discard), callback.WithClock(clk.Now))
		send := func(extra func([]byte) []byte) (string, any) {
			p.reset()
			var code string
			if useV1 {
				c, err := koogallerytest.NewV1Sender(accessKey, koogallerytest.WithClock(clk.Now)).
					SignKit("http://example.test/produceAPI/"+name, genuineKitV1(name))
				require.NoError(t, err)
				c.Body = extra(c.Body)
				req, err := c.Request(context.Background())
				require.NoError(t, err)
				code = serveCode(t, h, req)
			} else {
				c, err := koogallerytest.NewSender(accessKey, koogallerytest.WithClock(clk.Now)).
					SignKit("http://example.test/produceAPI/v2/"+name, genuineKit[name])
				require.NoError(t, err)
				c.Body = extra(c.Body)
				req, err := c.Request(context.Background())
				require.NoError(t, err)
				code = serveCode(t, h, req)
			}
			if code != "000000" {
				return code, nil
			}
			return code, withoutRaw(p.Last())
		}
		code, want := send(func(b []byte) []byte { return b })
		require.Equal(t, "000000", code, "the genuine %s call", name)
		clk.Advance(time.Millisecond) // a new timestamp: a new V1 token, not a re-delivery
		member = strconv.Quote(member)
		code, got := send(func(b []byte) []byte {
			s := string(b)
			if atEnd {
				i := strings.LastIndexByte(s, '}')
				return []byte(s[:i] + "," + member + ":" + value + "}")
			}
			return []byte("{" + member + ":" + value + "," + s[1:])
		})
		if code == "000001" || code == "000002" {
			return // refused: nothing reached the provider
		}
		require.Equal(t, "000000", code)
		clearTimeStamp(want)
		clearTimeStamp(got)
		assert.Equal(t, want, got, "%s with %s:%s added", name, member, value)
	})
}

func serveCode(t *testing.T, h http.Handler, req *http.Request) string {
	if req.Header.Get("authToken") != "" {
		code, _ := callbacktest.SignedResult(t, h, req, accessKey)
		return code
	}
	return callbacktest.ResultCode(t, h, req)
}

func isBlankValue(v string, blanks []string) bool {
	for _, b := range blanks {
		if v == b {
			return true
		}
	}
	return false
}
