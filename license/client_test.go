package license_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/license"
)

func newLicenseClient(t *testing.T) (*koogallerytest.Server, *koogallery.Client, *license.Client) {
	t.Helper()
	fake := koogallerytest.NewServer()
	t.Cleanup(fake.Close)
	kg, err := fake.NewClient(koogallery.WithRetryPolicy(koogallery.RetryPolicy{MaxAttempts: 2, MaxBackoff: 10 * time.Millisecond}))
	require.NoError(t, err)
	fake.AddLicenseCode(koogallerytest.LicenseCode{Code: "PL0001", ProductID: "OFFI1", OrderID: "CS1", Amount: 2,
		ExpireTime: time.Date(2027, 7, 26, 12, 16, 46, 0, time.UTC)})
	fake.AddLicenseCode(koogallerytest.LicenseCode{Code: "PL0002", Status: license.CodeStatusExpired, ProductID: "OFFI1"})
	fake.AddLicenseCode(koogallerytest.LicenseCode{Code: "PLWAIT", NotReceived: true})
	return fake, kg, license.NewClient(kg)
}

func TestActivate(t *testing.T) {
	t.Parallel()
	fake, _, c := newLicenseClient(t)
	effect := time.Date(2026, 1, 2, 15, 35, 55, 0, time.FixedZone("CST", 8*3600))
	info, err := c.Activate(context.Background(), "PL0001", license.WithRealEffectTime(effect))
	require.NoError(t, err)
	assert.Equal(t, license.CodeStatusAlive, info.Status)
	assert.Equal(t, time.Date(2027, 7, 26, 12, 16, 46, 0, time.UTC), info.ExpireTime)
	assert.Equal(t, "OFFI1", info.ProductID)
	assert.Equal(t, "CS1", info.OrderID)
	assert.Equal(t, int64(2), info.Amount)
	assert.JSONEq(t, `{"status":"ALIVE","expire_time":"20270726121646","product_id":"OFFI1","amount":2,"order_id":"CS1"}`, string(info.Raw))

	reqs := fake.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, license.ActivatePath, reqs[0].Path)
	assert.NoError(t, reqs[0].AuthError)
	assert.JSONEq(t, `{"license":"PL0001","real_effect_time":"20260102073555"}`, string(reqs[0].Body))
	code, ok := fake.LicenseCode("PL0001")
	require.True(t, ok)
	assert.False(t, code.ActivateTime.IsZero())
	assert.True(t, code.RealEffectTime.Equal(effect))

	_, err = c.Activate(context.Background(), "PL0001")
	require.NoError(t, err, "activating again is harmless")
	assert.JSONEq(t, `{"license":"PL0001"}`, string(fake.Requests()[1].Body))
}

func TestLicenseDocumentedErrors(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		fault    *koogallerytest.Fault
		call     func(*license.Client) error
		status   int
		code     string
		sentinel error
	}{
		{"unknown code", nil, func(c *license.Client) error { _, err := c.Activate(context.Background(), "PLNONE"); return err },
			200, "92020005", koogallery.ErrNotFound},
		{"not yet received", nil, func(c *license.Client) error { _, err := c.Activate(context.Background(), "PLWAIT"); return err },
			200, "92020004", koogallery.ErrInvalidRequest},
		{"heartbeat unknown code", nil, func(c *license.Client) error { _, err := c.Heartbeat(context.Background(), "PLNONE"); return err },
			200, "92020005", koogallery.ErrNotFound},
		{"unauthorized", &koogallerytest.Fault{Status: 403, Code: "92020001", Message: "Unauthorized"},
			func(c *license.Client) error { _, err := c.Activate(context.Background(), "PL0001"); return err },
			403, "92020001", koogallery.ErrAuthentication},
		{"internal error", &koogallerytest.Fault{Status: 500, Code: "92020001", Message: "internal error", Times: 2},
			func(c *license.Client) error { _, err := c.Heartbeat(context.Background(), "PL0001"); return err },
			500, "92020001", koogallery.ErrServer},
		{"software usage invalid param", &koogallerytest.Fault{Status: 400, Code: "92020002", Message: "invalid param"},
			func(c *license.Client) error {
				_, err := c.ReportSoftwareUsage(context.Background(), []license.SoftwareUsage{{License: "PL0001", Entries: []license.UsageEntry{license.ActiveClientCount(3)}}})
				return err
			}, 400, "92020002", koogallery.ErrInvalidRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, _, c := newLicenseClient(t)
			if tc.fault != nil {
				fake.Inject(*tc.fault)
			}
			err := tc.call(c)
			var apiErr *koogallery.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Equal(t, tc.code, apiErr.Code)
			assert.ErrorIs(t, err, tc.sentinel)
			assert.True(t, strings.HasPrefix(err.Error(), "license: "), err.Error())
		})
	}
}

// The fake answers 92020002 for what the client would never send.
func TestFakeLicenseRejectsUndefinedParameters(t *testing.T) {
	t.Parallel()
	_, kg, _ := newLicenseClient(t)
	for path, body := range map[string]string{
		license.ActivatePath:      `{"license":"PL0001","extra":1}`,
		license.ActivateV2Path:    `{"license_list":[]}`,
		license.HeartbeatPath:     `{"license":"PL0001","heartbeatInfo":{"ip":"1.2.3.4"}}`,
		license.HeartbeatV2Path:   `{"license_list":["` + strings.Repeat("x", 65) + `"]}`,
		license.SoftwareUsagePath: `{"usage_info":[{"license":"PL0001","software_usage_Info":[{"id":"a","active_num":1}]}]}`,
	} {
		req, err := kg.NewRequest(context.Background(), http.MethodPost, path, nil, []byte(body))
		require.NoError(t, err)
		err = kg.Do(context.Background(), req, nil)
		var apiErr *koogallery.APIError
		require.ErrorAs(t, err, &apiErr, path)
		assert.Equal(t, "92020002", apiErr.Code, path)
		assert.Equal(t, 400, apiErr.StatusCode, path)
		assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
	}
	req, err := kg.NewRequest(context.Background(), http.MethodPost, license.ActivatePath, nil, []byte(`{"license":"PL0001","real_effect_time":"2026-01-02"}`))
	require.NoError(t, err)
	assert.ErrorIs(t, kg.Do(context.Background(), req, nil), koogallery.ErrInvalidRequest)
}

func TestActivateBatch(t *testing.T) {
	t.Parallel()
	fake, _, c := newLicenseClient(t)
	res, err := c.ActivateBatch(context.Background(), []string{"PL0001", "PLNONE", "PLWAIT", "PL0002"})
	require.NoError(t, err)
	require.Len(t, res.Licenses, 4)
	ok := res.Find("PL0001")
	require.NotNil(t, ok)
	assert.NoError(t, ok.Err())
	require.NotNil(t, ok.CodeInfo)
	assert.Equal(t, int64(2), ok.CodeInfo.Amount)
	assert.Equal(t, license.CodeStatusAlive, ok.Status)
	assert.ErrorIs(t, res.Find("PLNONE").Err(), koogallery.ErrNotFound)
	assert.ErrorIs(t, res.Find("PLWAIT").Err(), koogallery.ErrInvalidRequest)
	assert.Equal(t, license.CodeStatusExpired, res.Find("PL0002").Status)
	assert.Nil(t, res.Find("PL9999"))
	assert.True(t, json.Valid(res.Raw))
	assert.JSONEq(t, `{"license_list":["PL0001","PLNONE","PLWAIT","PL0002"]}`, string(fake.Requests()[0].Body))
}

func TestHeartbeat(t *testing.T) {
	t.Parallel()
	fake, _, c := newLicenseClient(t)
	_, err := c.Activate(context.Background(), "PL0001")
	require.NoError(t, err)
	info, err := c.Heartbeat(context.Background(), "PL0001", license.WithHeartbeatInfo("myaccount1", "192.168.1.51"))
	require.NoError(t, err)
	assert.Equal(t, "PL0001", info.License)
	assert.Equal(t, license.CodeStatusAlive, info.Status)
	assert.WithinDuration(t, time.Now(), info.ActivateTime, time.Minute)
	assert.Equal(t, time.Date(2027, 7, 26, 12, 16, 46, 0, time.UTC), info.ExpireTime)
	assert.NoError(t, info.Err())
	assert.JSONEq(t, `{"license":"PL0001","heartbeatInfo":{"thirdPartyAccount":"myaccount1","ip":"192.168.1.51"}}`, string(fake.Requests()[1].Body))
	code, _ := fake.LicenseCode("PL0001")
	assert.Equal(t, 1, code.Heartbeats)
	assert.Equal(t, []string{"myaccount1"}, code.HeartbeatAccounts)

	info, err = c.Heartbeat(context.Background(), "PL0002")
	require.NoError(t, err)
	assert.Equal(t, license.CodeStatusExpired, info.Status)
	assert.True(t, info.ActivateTime.IsZero(), "never activated")
	assert.JSONEq(t, `{"license":"PL0002"}`, string(fake.Requests()[2].Body))

	batch, err := c.HeartbeatBatch(context.Background(), []string{"PL0001", "PLNONE"})
	require.NoError(t, err)
	require.Len(t, batch.Licenses, 2)
	assert.Equal(t, license.CodeStatusAlive, batch.Find("PL0001").Status)
	assert.ErrorIs(t, batch.Find("PLNONE").Err(), koogallery.ErrNotFound)
	code, _ = fake.LicenseCode("PL0001")
	assert.Equal(t, 2, code.Heartbeats)
}

func TestReportSoftwareUsage(t *testing.T) {
	t.Parallel()
	fake, _, c := newLicenseClient(t)
	_, err := c.Activate(context.Background(), "PL0001")
	require.NoError(t, err)
	res, err := c.ReportSoftwareUsage(context.Background(), []license.SoftwareUsage{
		{License: "PL0001", Entries: []license.UsageEntry{license.ActiveClientID("account1"), license.ActiveClientCount(100)}},
		{License: "PL0002", Entries: []license.UsageEntry{license.ActiveClientID("a")}},
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"PL0002"}, res.Failed, "not activated")
	assert.JSONEq(t, `{"usage_info":[{"license":"PL0001","software_usage_Info":[{"id":"account1"},{"active_num":100}]},`+
		`{"license":"PL0002","software_usage_Info":[{"id":"a"}]}]}`, string(fake.Requests()[1].Body))
	code, _ := fake.LicenseCode("PL0001")
	assert.Equal(t, []license.UsageEntry{{ID: "account1"}, {ActiveNum: 100}}, code.Usage)
}

func TestLicenseValidatesBeforeSending(t *testing.T) {
	t.Parallel()
	many := make([]string, 101)
	for i := range many {
		many[i] = "PL" + strings.Repeat("0", i%10) + string(rune('a'+i%26)) + strings.Repeat("1", i/26)
	}
	entries := func(e ...license.UsageEntry) []license.SoftwareUsage {
		return []license.SoftwareUsage{{License: "PL0001", Entries: e}}
	}
	cases := []struct {
		name, want string
		call       func(*license.Client) error
	}{
		{"empty code", "license code is empty", func(c *license.Client) error { _, err := c.Activate(context.Background(), ""); return err }},
		{"long code", "longer than 64", func(c *license.Client) error {
			_, err := c.Heartbeat(context.Background(), strings.Repeat("x", 65))
			return err
		}},
		{"control character", "control character", func(c *license.Client) error { _, err := c.Activate(context.Background(), "PL\n1"); return err }},
		{"bad effect time", "real_effect_time", func(c *license.Client) error {
			_, err := c.Activate(context.Background(), "PL0001", license.WithRealEffectTime(time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC)))
			return err
		}},
		{"no codes", "no licence codes", func(c *license.Client) error { _, err := c.ActivateBatch(context.Background(), nil); return err }},
		{"101 codes", "101 licence codes", func(c *license.Client) error { _, err := c.HeartbeatBatch(context.Background(), many); return err }},
		{"repeated code", "listed twice", func(c *license.Client) error {
			_, err := c.ActivateBatch(context.Background(), []string{"A", "B", "A"})
			return err
		}},
		{"heartbeat without account", "thirdPartyAccount is empty", func(c *license.Client) error {
			_, err := c.Heartbeat(context.Background(), "PL0001", license.WithHeartbeatInfo("", "1.2.3.4"))
			return err
		}},
		{"no usage", "no usage_info", func(c *license.Client) error { _, err := c.ReportSoftwareUsage(context.Background(), nil); return err }},
		{"both id and count", "sets both", func(c *license.Client) error {
			_, err := c.ReportSoftwareUsage(context.Background(), entries(license.UsageEntry{ID: "a", ActiveNum: 1}))
			return err
		}},
		{"neither", "set id, or active_num", func(c *license.Client) error {
			_, err := c.ReportSoftwareUsage(context.Background(), entries(license.UsageEntry{}))
			return err
		}},
		{"count too large", "set id, or active_num", func(c *license.Client) error {
			_, err := c.ReportSoftwareUsage(context.Background(), entries(license.ActiveClientCount(1_000_000_000)))
			return err
		}},
		{"no entries", "has 0 entries", func(c *license.Client) error {
			_, err := c.ReportSoftwareUsage(context.Background(), entries())
			return err
		}},
		{"long id", "id is longer than 256", func(c *license.Client) error {
			_, err := c.ReportSoftwareUsage(context.Background(), entries(license.ActiveClientID(strings.Repeat("i", 257))))
			return err
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, _, c := newLicenseClient(t)
			err := tc.call(c)
			require.Error(t, err)
			assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "license: "), err.Error())
			assert.Empty(t, fake.Requests())
		})
	}
}

func TestSuccessWithoutPayload(t *testing.T) {
	t.Parallel()
	fake, _, c := newLicenseClient(t)
	fake.Inject(koogallerytest.Fault{Status: 200, ContentType: "application/json", Body: []byte(`{"error_code":"92020000","error_msg":"success"}`)})
	_, err := c.Activate(context.Background(), "PL0001")
	assert.ErrorIs(t, err, koogallery.ErrServer)
	assert.Contains(t, err.Error(), "without license_code_info")
	fake.Inject(koogallerytest.Fault{Status: 200, ContentType: "application/json", Body: []byte(`{"error_code":"92020000","data":{"license_code_info":"not json"}}`)})
	_, err = c.Activate(context.Background(), "PL0001")
	assert.ErrorIs(t, err, koogallery.ErrServer)
	fake.Inject(koogallerytest.Fault{Status: 200, ContentType: "application/json", Body: []byte(`{"error_code":"92020000","data":null}`)})
	_, err = c.Heartbeat(context.Background(), "PL0001")
	assert.ErrorIs(t, err, koogallery.ErrServer)
}

func TestCodeInfoDecodesTwice(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, raw string
		want      license.CodeInfo // Raw not compared
		wantErr   bool
	}{
		{"documented example", `"{\"status\":\"ALIVE\",\"expire_time\":\"20230726121646\",\"product_id\":\"12345\",\"amount\":2,\"order_id\":\"CS123\"}"`,
			license.CodeInfo{Status: "ALIVE", ExpireTime: time.Date(2023, 7, 26, 12, 16, 46, 0, time.UTC), ProductID: "12345", Amount: 2, OrderID: "CS123"}, false},
		{"object instead of string", `{"status":"RELEASED","amount":"7","product_id":12345}`,
			license.CodeInfo{Status: license.CodeStatusReleased, Amount: 7, ProductID: "12345"}, false},
		{"unknown status and odd members", `"{\"status\":\"FROZEN\",\"amount\":2.5,\"expire_time\":\"soon\",\"new\":[1]}"`,
			license.CodeInfo{Status: "FROZEN"}, false},
		{"spaces around the inner object", `" {\"status\":\"EXPIRED\"} "`, license.CodeInfo{Status: license.CodeStatusExpired}, false},
		{"string of a string", `"\"ALIVE\""`, license.CodeInfo{}, true},
		{"empty string", `""`, license.CodeInfo{}, true},
		{"inner array", `"[1,2]"`, license.CodeInfo{}, true},
		{"number", `12`, license.CodeInfo{}, true},
		{"broken inner JSON", `"{\"status\":"`, license.CodeInfo{}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ci, err := license.ParseCodeInfo([]byte(tc.raw))
			if tc.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.True(t, json.Valid(ci.Raw))
			ci.Raw = nil
			assert.Equal(t, tc.want, *ci)
		})
	}
}

func TestBatchAnswersDecodeTolerantly(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, data string
		codes      []string
	}{
		{"list", `[{"license":"A","error_code":"92020000"},{"license_code":"B"}]`, []string{"A", "B"}},
		{"list member", `{"total":2,"license_infos":[{"licenseCode":"A"},{"license":"B"}]}`, []string{"A", "B"}},
		{"single entry", `{"license_code":"A","status":"ALIVE"}`, []string{"A"}},
		{"keyed by code", `{"A":{"status":"ALIVE"},"B":{"status":"EXPIRED"}}`, []string{"A", "B"}},
		{"bare codes", `["A","B"]`, []string{"A", "B"}},
		{"nothing usable", `{"total":2}`, nil},
		{"null", `null`, nil},
		{"scalar", `"x"`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, _, c := newLicenseClient(t)
			fake.Inject(koogallerytest.Fault{Status: 200, ContentType: "application/json",
				Body: []byte(`{"error_code":"92020000","error_msg":"success","data":` + tc.data + `}`)})
			res, err := c.HeartbeatBatch(context.Background(), []string{"A", "B"})
			require.NoError(t, err)
			var got []string
			for _, l := range res.Licenses {
				got = append(got, l.License)
				assert.True(t, json.Valid(l.Raw))
			}
			assert.Equal(t, tc.codes, got)
			assert.JSONEq(t, tc.data, string(res.Raw))
		})
	}
}

func TestLicenseInfoNestedCodeInfo(t *testing.T) {
	t.Parallel()
	var li license.LicenseInfo
	require.NoError(t, json.Unmarshal([]byte(`{"license":"A","activate_time":"1700000000000","license_code_info":"{\"status\":\"ALIVE\",\"expire_time\":\"20300101000000\"}"}`), &li))
	assert.Equal(t, license.CodeStatusAlive, li.Status, "from the nested info")
	assert.Equal(t, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC), li.ExpireTime)
	assert.Equal(t, time.UnixMilli(1700000000000).UTC(), li.ActivateTime)
	assert.Error(t, json.Unmarshal([]byte(`null`), &li))
	li = license.LicenseInfo{ResultCode: "92029999", ResultMessage: "new"}
	var apiErr *koogallery.APIError
	require.True(t, errors.As(li.Err(), &apiErr))
	assert.Equal(t, "92029999", apiErr.Code)
}

// Every code the licence, upload and usage tables document maps to a
// sentinel (spec openapi.md §7.2-§7.4).
func TestDocumentedCodesClassify(t *testing.T) {
	t.Parallel()
	cases := []struct {
		status   int
		code     string
		sentinel error
	}{
		{403, "92020001", koogallery.ErrAuthentication},
		{500, "92020001", koogallery.ErrServer},
		{400, "92020002", koogallery.ErrInvalidRequest},
		{200, "92020004", koogallery.ErrInvalidRequest},
		{200, "92020005", koogallery.ErrNotFound},
		{403, "CBC.0150", koogallery.ErrPermission},
		{400, "CBC.0101", koogallery.ErrInvalidRequest},
		{500, "CBC.0999", koogallery.ErrServer},
		{200, "91381033", koogallery.ErrInvalidRequest},
		{200, "91381034", koogallery.ErrInvalidRequest},
		{200, "91381035", koogallery.ErrInvalidRequest},
		{200, "91381036", koogallery.ErrServer},
		{200, "91381037", koogallery.ErrInvalidRequest},
		{200, "91381038", koogallery.ErrPermission},
		{200, "91380150", koogallery.ErrPermission},
		{400, "MKT.0102", koogallery.ErrAuthentication},
		{500, "MKT.9001", koogallery.ErrNotFound},
		{500, "MKT.9002", koogallery.ErrInvalidRequest},
		{500, "MKT.9003", koogallery.ErrInvalidRequest},
		{500, "MKT.9004", koogallery.ErrInvalidRequest},
		{500, "94060001", koogallery.ErrServer},
		{401, "94060002", koogallery.ErrAuthentication},
		{400, "94060004", koogallery.ErrInvalidRequest},
		{413, "APIGW.0201", koogallery.ErrInvalidRequest},
	}
	for _, tc := range cases {
		err := &koogallery.APIError{StatusCode: tc.status, Code: tc.code}
		assert.ErrorIs(t, err, tc.sentinel, "%d %s", tc.status, tc.code)
	}
}

// TestLicenseCallsAreRetriedAsIdempotent: every licence-code API, and the
// characters upload, may be sent again after a server error.
func TestLicenseCallsAreRetriedAsIdempotent(t *testing.T) {
	t.Parallel()
	fake, _, c := newLicenseClient(t)
	fake.AddEvents("EV1")
	calls := map[string]func() error{
		"activate":       func() error { _, err := c.Activate(context.Background(), "PL0001"); return err },
		"activate batch": func() error { _, err := c.ActivateBatch(context.Background(), []string{"PL0001"}); return err },
		"heartbeat":      func() error { _, err := c.Heartbeat(context.Background(), "PL0001"); return err },
		"heartbeat batch": func() error {
			_, err := c.HeartbeatBatch(context.Background(), []string{"PL0001"})
			return err
		},
		"software usage": func() error {
			_, err := c.ReportSoftwareUsage(context.Background(), []license.SoftwareUsage{{License: "PL0001", Entries: []license.UsageEntry{{ID: "u1"}}}})
			return err
		},
		"upload characters": func() error { return c.UploadCharacters(context.Background(), "EV1", "LICENSE-TEXT") },
	}
	for name, call := range calls {
		before := len(fake.Requests())
		fake.Inject(koogallerytest.Unavailable())
		require.NoError(t, call(), name)
		reqs := fake.Requests()[before:]
		require.Len(t, reqs, 2, name)
		assert.Equal(t, http.StatusServiceUnavailable, reqs[0].Status, name)
		assert.Equal(t, reqs[0].Body, reqs[1].Body, name)
	}
}
