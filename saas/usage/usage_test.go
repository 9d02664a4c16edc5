package usage_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/usage"
)

func newUsageClient(t *testing.T, opts ...usage.Option) (*koogallerytest.Server, *koogallery.Client, *usage.Client) {
	t.Helper()
	fake := koogallerytest.NewServer()
	t.Cleanup(fake.Close)
	kg, err := fake.NewClient(koogallery.WithRetryPolicy(koogallery.RetryPolicy{MaxAttempts: 3, MaxBackoff: 10 * time.Millisecond}))
	require.NoError(t, err)
	return fake, kg, usage.NewClient(kg, append([]usage.Option{usage.WithSellerKey(koogallerytest.DefaultSellerKey)}, opts...)...)
}

// usageRecords returns n valid records of one hour starting at begin.
func usageRecords(n int, begin time.Time) []usage.Record {
	out := make([]usage.Record, n)
	for i := range out {
		out[i] = usage.Record{
			InstanceID: "inst-" + strconv.Itoa(i%7),
			MeteringSN: fmt.Sprintf("sn-%05d", i),
			RecordTime: begin.Add(time.Hour + time.Minute),
			BeginTime:  begin,
			EndTime:    begin.Add(time.Hour),
			UsageValue: usage.MustDecimal("1.25"),
		}
	}
	return out
}

func recent() time.Time { return time.Now().UTC().Truncate(time.Hour).Add(-2 * time.Hour) }

// bodySignature recomputes the documented signature independently.
func bodySignature(key string, h http.Header, body []byte) string {
	mac := hmac.New(sha256.New, []byte(key))
	fmt.Fprintf(mac, "ts=%s&nonce=%s&body=%s", h.Get("ts"), h.Get("nonce"), body)
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestPushUsageSendsSignedCanonicalBody(t *testing.T) {
	t.Parallel()
	fake, _, c := newUsageClient(t)
	recs := usageRecords(2, recent())
	recs[1].RelatePkgInstance = "pkg-1"
	res, err := c.Push(context.Background(), recs)
	require.NoError(t, err)
	assert.Equal(t, "MKT.0000", res.Code)
	assert.Empty(t, res.Abnormal)
	assert.JSONEq(t, `{"error_code":"MKT.0000","error_msg":"success"}`, string(res.Raw))

	reqs := fake.Requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	assert.Equal(t, usage.Path, r.Path)
	assert.NoError(t, r.AuthError, "AK/SK verified")
	assert.Equal(t, "MKT.0000", r.Code)
	assert.Equal(t, bodySignature(koogallerytest.DefaultSellerKey, r.Header, r.Body), r.Header.Get("signature"))
	ts, err := strconv.ParseInt(r.Header.Get("ts"), 10, 64)
	require.NoError(t, err)
	assert.WithinDuration(t, time.Now(), time.UnixMilli(ts), time.Minute)
	assert.Len(t, r.Header.Get("nonce"), 32)
	assert.Contains(t, r.Header.Get("Authorization"), "SignedHeaders=content-type;host;x-sdk-date,")

	// The bytes sent are the bytes Encode returns, already canonical.
	want, err := usage.Encode(recs)
	require.NoError(t, err)
	assert.Equal(t, string(want), string(r.Body))
	assert.Equal(t, canonical(t, r.Body), string(r.Body))
	assert.True(t, strings.HasPrefix(string(r.Body), `{"usage_records":[{"begin_time":"`), string(r.Body))
	assert.NotContains(t, string(r.Body), "product_id")

	got := fake.UsageRecords()
	require.Len(t, got, 2)
	assert.Equal(t, recs[1].MeteringSN, got[1].MeteringSN)
	assert.Equal(t, "pkg-1", got[1].RelatePkgInstance)
	assert.True(t, recs[0].BeginTime.Equal(got[0].BeginTime))
	assert.Equal(t, "1.25", got[0].UsageValue.String())
}

// canonical re-encodes JSON with sorted keys, compact, no HTML escaping.
func canonical(t *testing.T, b []byte) string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	require.NoError(t, dec.Decode(&v))
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	require.NoError(t, enc.Encode(v))
	return strings.TrimSuffix(out.String(), "\n")
}

func TestEncodeUsageGolden(t *testing.T) {
	t.Parallel()
	begin := time.Date(2022, 8, 9, 16, 0, 0, 999_000_000, time.FixedZone("CST", 8*3600))
	body, err := usage.Encode([]usage.Record{{
		InstanceID: "7f141bf1-aec8-4859-8323-fb3a8ad50721", MeteringSN: "a<b>&c", ProductID: "ignored",
		RecordTime: begin.Add(70 * time.Minute), BeginTime: begin, EndTime: begin.Add(time.Hour),
		UsageValue: usage.MustDecimal("99"),
	}})
	require.NoError(t, err)
	assert.Equal(t, `{"usage_records":[{"begin_time":"20220809T080000Z","end_time":"20220809T090000Z",`+
		`"instance_id":"7f141bf1-aec8-4859-8323-fb3a8ad50721","metering_sn":"a<b>&c","record_time":"20220809T091000Z",`+
		`"usage_value":"99"}]}`, string(body))
}

func TestPushUsageInBatchesSendsThreeVerifiedRequests(t *testing.T) {
	t.Parallel()
	fake, _, c := newUsageClient(t)
	recs := usageRecords(2500, recent())
	results, err := c.PushInBatches(context.Background(), recs)
	require.NoError(t, err)
	require.Len(t, results, 3)
	for i, want := range []struct{ off, n int }{{0, 1000}, {1000, 1000}, {2000, 500}} {
		assert.Equal(t, want.off, results[i].Offset)
		assert.Equal(t, want.n, results[i].Count)
		assert.NoError(t, results[i].Err)
		require.NotNil(t, results[i].Result)
		assert.Equal(t, "MKT.0000", results[i].Result.Code)
	}
	reqs := fake.Requests()
	require.Len(t, reqs, 3)
	for i, r := range reqs {
		assert.NoError(t, r.AuthError, "request %d AK/SK", i)
		assert.Equal(t, "MKT.0000", r.Code, "request %d: the fake checked the body signature", i)
		assert.Equal(t, bodySignature(koogallerytest.DefaultSellerKey, r.Header, r.Body), r.Header.Get("signature"))
		var body struct {
			UsageRecords []json.RawMessage `json:"usage_records"`
		}
		require.NoError(t, json.Unmarshal(r.Body, &body))
		assert.Len(t, body.UsageRecords, results[i].Count)
	}
	assert.NotEqual(t, reqs[0].Header.Get("nonce"), reqs[1].Header.Get("nonce"))
	got := fake.UsageRecords()
	require.Len(t, got, 2500)
	assert.Equal(t, "sn-02499", got[2499].MeteringSN)
}

func TestPushUsageInBatchesReportsEachBatch(t *testing.T) {
	t.Parallel()
	t.Run("a failed batch does not stop the others", func(t *testing.T) {
		t.Parallel()
		fake, _, c := newUsageClient(t)
		recs := usageRecords(2100, recent())
		recs[1500].BeginTime = time.Now().Add(-22 * 24 * time.Hour) // MKT.9004 for the second batch
		results, err := c.PushInBatches(context.Background(), recs)
		require.Error(t, err)
		assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
		require.Len(t, results, 3)
		assert.NoError(t, results[0].Err)
		var apiErr *koogallery.APIError
		require.ErrorAs(t, results[1].Err, &apiErr)
		assert.Equal(t, "MKT.9004", apiErr.Code)
		assert.Contains(t, results[1].Err.Error(), "records 1000-1999")
		assert.NoError(t, results[2].Err)
		assert.Len(t, fake.UsageRecords(), 1100)
	})
	t.Run("an authentication failure stops the rest", func(t *testing.T) {
		t.Parallel()
		fake, _, c := newUsageClient(t, usage.WithSellerKey("not-the-key"))
		results, err := c.PushInBatches(context.Background(), usageRecords(2500, recent()))
		assert.ErrorIs(t, err, koogallery.ErrAuthentication)
		require.Len(t, results, 3)
		assert.ErrorIs(t, results[0].Err, koogallery.ErrAuthentication)
		assert.ErrorIs(t, results[1].Err, usage.ErrBatchNotSent)
		assert.ErrorIs(t, results[2].Err, usage.ErrBatchNotSent)
		assert.Len(t, fake.Requests(), 1)
	})
	t.Run("a cancelled context sends nothing more", func(t *testing.T) {
		t.Parallel()
		fake, _, c := newUsageClient(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		results, err := c.PushInBatches(ctx, usageRecords(1500, recent()))
		assert.ErrorIs(t, err, context.Canceled)
		require.Len(t, results, 2)
		assert.ErrorIs(t, results[0].Err, usage.ErrBatchNotSent)
		assert.Empty(t, fake.Requests())
	})
	t.Run("invalid input sends nothing", func(t *testing.T) {
		t.Parallel()
		fake, _, c := newUsageClient(t)
		recs := usageRecords(1500, recent())
		recs[1200].MeteringSN = recs[3].MeteringSN // unique across the whole set
		results, err := c.PushInBatches(context.Background(), recs)
		assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
		assert.Nil(t, results)
		assert.Empty(t, fake.Requests())
	})
}

func TestPushUsageDocumentedErrors(t *testing.T) {
	t.Parallel()
	old := time.Now().Add(-21*24*time.Hour - time.Hour)
	cases := []struct {
		name     string
		opts     []usage.Option
		setup    func(*koogallerytest.Server)
		recs     []usage.Record
		status   int
		code     string
		sentinel error
	}{
		{"wrong seller key", []usage.Option{usage.WithSellerKey("wrong")}, nil, usageRecords(1, recent()),
			400, "MKT.0102", koogallery.ErrAuthentication},
		{"older than 21 days", nil, nil, usageRecords(1, old), 500, "MKT.9004", koogallery.ErrInvalidRequest},
		{"unknown instance", nil, func(s *koogallerytest.Server) { s.AddInstances("someone-else") }, usageRecords(1, recent()),
			500, "MKT.9001", koogallery.ErrNotFound},
		{"throttled", nil, func(s *koogallerytest.Server) {
			s.Inject(koogallerytest.Fault{Path: usage.Path, Times: 5, Status: 406, Code: "MKT.0250", Message: "Access frequency overlimit"})
		}, usageRecords(1, recent()), 406, "MKT.0250", koogallery.ErrThrottled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, _, c := newUsageClient(t, tc.opts...)
			if tc.setup != nil {
				tc.setup(fake)
			}
			res, err := c.Push(context.Background(), tc.recs)
			require.Error(t, err)
			assert.Nil(t, res)
			var apiErr *koogallery.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Equal(t, tc.code, apiErr.Code)
			assert.ErrorIs(t, err, tc.sentinel)
			assert.True(t, strings.HasPrefix(err.Error(), "usage: push usage (1 records): "), err.Error())
			assert.Empty(t, fake.UsageRecords())
		})
	}
}

// signedPost sends body to path with a valid body signature, bypassing the
// client's validation, to reach the fake's own checks.
func signedPost(t *testing.T, kg *koogallery.Client, path string, body []byte, key string) error {
	t.Helper()
	req, err := kg.NewRequest(context.Background(), http.MethodPost, path, nil, body)
	require.NoError(t, err)
	ts, nonce := strconv.FormatInt(time.Now().UnixMilli(), 10), "n0nce"
	req.Header.Set("ts", ts)
	req.Header.Set("nonce", nonce)
	req.Header.Set("signature", bodySignature(key, req.Header, body))
	return kg.Do(context.Background(), req, nil)
}

func TestFakeUsageChecksWhatTheClientWouldNotSend(t *testing.T) {
	t.Parallel()
	valid := func(n int) []byte {
		b, err := usage.Encode(usageRecords(n, recent()))
		require.NoError(t, err)
		return b
	}
	cases := []struct {
		name string
		body []byte
		code string
	}{
		{"more than 1000 records", valid(1001), "MKT.9003"},
		{"keys not sorted", []byte(strings.Replace(string(valid(1)), `{"begin_time"`, `{"zz":1,"begin_time"`, 1)), "MKT.0102"},
		{"pretty-printed", bytes.ReplaceAll(valid(1), []byte(`,"`), []byte(`, "`)), "MKT.0102"},
		{"no records", []byte(`{"usage_records":[]}`), "MKT.0101"},
		{"five decimals", bytes.Replace(valid(1), []byte(`"1.25"`), []byte(`"1.00001"`), 1), "MKT.0100"},
		{"zero usage", bytes.Replace(valid(1), []byte(`"1.25"`), []byte(`"0"`), 1), "MKT.0100"},
		{"duplicate metering_sn", bytes.Replace(valid(2), []byte(`sn-00001`), []byte(`sn-00000`), 1), "MKT.0100"},
		{"product_id on the new API", bytes.Replace(valid(1), []byte(`"record_time"`), []byte(`"product_id":"P","record_time"`), 1), "MKT.0101"},
		{"not JSON", []byte(`{"usage_records":`), "MKT.0101"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, kg, _ := newUsageClient(t)
			err := signedPost(t, kg, usage.Path, tc.body, koogallerytest.DefaultSellerKey)
			var apiErr *koogallery.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.code, apiErr.Code)
		})
	}
	t.Run("missing signature headers", func(t *testing.T) {
		t.Parallel()
		_, kg, _ := newUsageClient(t)
		req, err := kg.NewRequest(context.Background(), http.MethodPost, usage.Path, nil, valid(1))
		require.NoError(t, err)
		err = kg.Do(context.Background(), req, nil)
		assert.ErrorIs(t, err, koogallery.ErrAuthentication)
		assert.Contains(t, err.Error(), "MKT.0102")
	})
}

func TestPushUsageRetriesWithTheSameSignedBody(t *testing.T) {
	t.Parallel()
	fake, _, c := newUsageClient(t)
	fake.Inject(koogallerytest.Unavailable())
	res, err := c.Push(context.Background(), usageRecords(3, recent()))
	require.NoError(t, err)
	assert.Equal(t, "MKT.0000", res.Code)
	reqs := fake.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, 503, reqs[0].Status)
	assert.Equal(t, reqs[0].Body, reqs[1].Body)
	assert.Equal(t, reqs[0].Header.Get("signature"), reqs[1].Header.Get("signature"))
	assert.Len(t, fake.UsageRecords(), 3)

	// Re-sending the same metering_sn is acknowledged, not counted twice.
	_, err = c.Push(context.Background(), usageRecords(3, recent()))
	require.NoError(t, err)
	assert.Len(t, fake.UsageRecords(), 3)
}

func TestPushUsageSurfacesAbnormalRecords(t *testing.T) {
	t.Parallel()
	fake, _, c := newUsageClient(t)
	fake.FailUsageRecord("sn-00001", "instance is frozen")
	res, err := c.Push(context.Background(), usageRecords(3, recent()))
	require.NoError(t, err)
	require.Len(t, res.Abnormal, 1)
	a := res.Abnormal[0]
	assert.Equal(t, "sn-00001", a.MeteringSN)
	assert.Equal(t, "inst-1", a.InstanceID)
	assert.Equal(t, "instance is frozen", a.Message)
	assert.JSONEq(t, `{"metering_sn":"sn-00001","instance_id":"inst-1","error_msg":"instance is frozen"}`, string(a.Raw))
	assert.Len(t, fake.UsageRecords(), 2)
}

func TestPushUsageAbnormalRecordsInAFailure(t *testing.T) {
	t.Parallel()
	fake, _, c := newUsageClient(t)
	fake.Inject(koogallerytest.Fault{Path: usage.Path, Status: 400, ContentType: "application/json",
		Body: []byte(`{"error_code":"94060004","error_msg":"Param error","extra_info":[{"meteringSn":"sn-00000","errorMsg":"bad value"}]}`)})
	res, err := c.Push(context.Background(), usageRecords(1, recent()))
	assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
	require.NotNil(t, res)
	require.Len(t, res.Abnormal, 1)
	assert.Equal(t, "sn-00000", res.Abnormal[0].MeteringSN)
	assert.Equal(t, "bad value", res.Abnormal[0].Message)
	assert.Equal(t, "94060004", res.Code)

	// Elsewhere in the failure answer than extra_info, e.g. under data.
	fake.Inject(koogallerytest.Fault{Path: usage.Path, Status: 400, ContentType: "application/json",
		Body: []byte(`{"error_code":"MKT.9002","error_msg":"Invalid usage enties.","data":{"abnormal_usage_data":[{"metering_sn":"sn-00000","error_msg":"unknown entity"}]}}`)})
	res, err = c.Push(context.Background(), usageRecords(1, recent()))
	assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
	require.NotNil(t, res)
	require.Len(t, res.Abnormal, 1)
	assert.Equal(t, "unknown entity", res.Abnormal[0].Message)
	var apiErr *koogallery.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Contains(t, string(apiErr.Body), "abnormal_usage_data")
}

func TestPushLegacyUsage(t *testing.T) {
	t.Parallel()
	fake, _, _ := newUsageClient(t)
	kg, err := fake.NewClient()
	require.NoError(t, err)
	c := usage.NewClient(kg) // the old API needs no seller key
	recs := usageRecords(2, recent())
	for i := range recs {
		recs[i].ProductID = "OFFI846204237451911168"
	}
	res, err := c.PushLegacy(context.Background(), recs)
	require.NoError(t, err)
	assert.Equal(t, "MKT.0000", res.Code)
	reqs := fake.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, usage.LegacyPath, reqs[0].Path)
	assert.Empty(t, reqs[0].Header.Get("signature"))
	assert.Contains(t, string(reqs[0].Body), `"product_id":"OFFI846204237451911168"`)
	assert.NotContains(t, string(reqs[0].Body), "metering_sn")
	assert.Len(t, fake.UsageRecords(), 2)

	recs[1].ProductID = ""
	_, err = c.PushLegacy(context.Background(), recs)
	assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
	assert.Contains(t, err.Error(), "record 1: product_id is empty")
	_, err = c.Push(context.Background(), usageRecords(1, recent()))
	assert.ErrorIs(t, err, koogallery.ErrInvalidRequest, "the new API needs the seller key")
	assert.Len(t, fake.Requests(), 1)
}

func TestPushUsageValidatesBeforeSending(t *testing.T) {
	t.Parallel()
	mod := func(f func(r *usage.Record)) []usage.Record {
		recs := usageRecords(3, recent())
		f(&recs[2])
		return recs
	}
	long := strings.Repeat("x", 65)
	cases := []struct {
		name, want string
		recs       []usage.Record
	}{
		{"no records", "no usage records", nil},
		{"too many", "1001 usage records, at most 1000", usageRecords(1001, recent())},
		{"no instance", "record 2: instance_id is empty", mod(func(r *usage.Record) { r.InstanceID = "" })},
		{"long instance", "instance_id is longer than 64", mod(func(r *usage.Record) { r.InstanceID = long })},
		{"no metering_sn", "metering_sn is empty", mod(func(r *usage.Record) { r.MeteringSN = "" })},
		{"repeated metering_sn", `metering_sn "sn-00000" repeats record 0`, mod(func(r *usage.Record) { r.MeteringSN = "sn-00000" })},
		{"long package", "relate_pkg_instance is longer", mod(func(r *usage.Record) { r.RelatePkgInstance = long })},
		{"invalid UTF-8", "instance_id is not valid UTF-8", mod(func(r *usage.Record) { r.InstanceID = "\xff" })},
		{"control character", "contains a control character", mod(func(r *usage.Record) { r.MeteringSN = "a\nb" })},
		{"begin after end", "is after end_time", mod(func(r *usage.Record) { r.BeginTime = r.EndTime.Add(time.Second) })},
		{"no record time", "record_time is not set", mod(func(r *usage.Record) { r.RecordTime = time.Time{} })},
		{"year 10000", "end_time is not set or outside", mod(func(r *usage.Record) { r.EndTime = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) })},
		{"no usage value", "usage_value is not set", mod(func(r *usage.Record) { r.UsageValue = usage.Decimal{} })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fake, _, c := newUsageClient(t)
			_, err := c.Push(context.Background(), tc.recs)
			require.Error(t, err)
			assert.ErrorIs(t, err, koogallery.ErrInvalidRequest)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "usage: push usage: "), err.Error())
			assert.Empty(t, fake.Requests(), "nothing sent")
			assert.Equal(t, err.Error(), strings.ToLower(err.Error()[:1])+err.Error()[1:])
		})
	}
	// A sub-second difference that truncates to the same second is fine.
	recs := usageRecords(1, recent())
	recs[0].BeginTime = recs[0].EndTime.Add(500 * time.Millisecond)
	assert.NoError(t, usage.Validate(recs))
}

func TestUsageSecretsStayOut(t *testing.T) {
	t.Parallel()
	const key = "seller-key-that-must-not-leak-0123456789"
	var logs bytes.Buffer
	fake := koogallerytest.NewServer()
	t.Cleanup(fake.Close)
	kg, err := fake.NewClient(koogallery.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))),
		koogallery.WithRetryPolicy(koogallery.RetryPolicy{MaxAttempts: 2, MaxBackoff: time.Millisecond}))
	require.NoError(t, err)
	c := usage.NewClient(kg, usage.WithSellerKey(key))
	fake.Inject(koogallerytest.Unavailable())
	_, err = c.Push(context.Background(), usageRecords(1, recent()))
	require.Error(t, err)
	assert.ErrorIs(t, err, koogallery.ErrAuthentication)
	for _, s := range []string{err.Error(), logs.String(), fmt.Sprintf("%+v", c), fmt.Sprintf("%#v", c), fmt.Sprintf("%v", *c)} {
		assert.NotContains(t, s, key)
		assert.NotContains(t, s, koogallerytest.DefaultSecretKey)
	}
	assert.Contains(t, logs.String(), "retrying", "the logger was exercised")
}

func TestDecimal(t *testing.T) {
	t.Parallel()
	good := map[string]string{
		"99": "99", "0.5": "0.5", "007.50": "7.5", "12.3400": "12.34", "0.0001": "0.0001", "1.": "", "10": "10",
		"99999999.9999": "99999999.9999", "1.000000": "1",
	}
	for in, want := range good {
		d, err := usage.ParseDecimal(in)
		if want == "" {
			assert.Error(t, err, in)
			continue
		}
		require.NoError(t, err, in)
		assert.Equal(t, want, d.String(), in)
		assert.False(t, d.IsZero())
	}
	for _, in := range []string{"", "0", "0.0000", "-1", "+1", "1e3", " 1", "1,5", "0.00001", "1.23456", ".5", "1..2", "١", "123456789012345678901"} {
		_, err := usage.ParseDecimal(in)
		assert.Error(t, err, "%q", in)
	}
	floats := []struct {
		f    float64
		want string
	}{{0.1, "0.1"}, {2, "2"}, {1234.5678, "1234.5678"}, {0.0001, "0.0001"}}
	for _, tc := range floats {
		d, err := usage.DecimalFromFloat(tc.f)
		require.NoError(t, err)
		assert.Equal(t, tc.want, d.String())
		assert.Equal(t, tc.f, d.Float64())
	}
	a, b := 0.1, 0.2
	for _, f := range []float64{0, -1, 1e-5, a + b, 1e300} {
		_, err := usage.DecimalFromFloat(f)
		assert.Error(t, err, "%v", f)
	}
	_, err := usage.DecimalFromFloat(nan())
	assert.Error(t, err)
	d, err := usage.DecimalFromInt(42)
	require.NoError(t, err)
	assert.Equal(t, "42", d.String())
	_, err = usage.DecimalFromInt(0)
	assert.Error(t, err)
	assert.Panics(t, func() { usage.MustDecimal("x") })

	var back struct{ V, W, Z usage.Decimal }
	require.NoError(t, json.Unmarshal([]byte(`{"V":"1.50","W":2.25,"Z":null}`), &back))
	assert.Equal(t, "1.5", back.V.String())
	assert.Equal(t, "2.25", back.W.String())
	assert.True(t, back.Z.IsZero())
	out, err := json.Marshal(back)
	require.NoError(t, err)
	assert.Equal(t, `{"V":"1.5","W":"2.25","Z":null}`, string(out))
	assert.Error(t, json.Unmarshal([]byte(`{"V":"0.00001"}`), &back))
}

func nan() float64 { var z float64; return z / z }

func TestUsageRecordJSONRoundTrip(t *testing.T) {
	t.Parallel()
	in := usageRecords(1, time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC))[0]
	in.ProductID, in.RelatePkgInstance = "P1", "PKG"
	b, err := json.Marshal(in)
	require.NoError(t, err)
	var out usage.Record
	require.NoError(t, json.Unmarshal(b, &out))
	assert.Equal(t, in, out)
	// Tolerant: numbers for strings, another compact layout.
	require.NoError(t, json.Unmarshal([]byte(`{"instance_id":7,"usage_value":3,"begin_time":"20240301100000"}`), &out))
	assert.Equal(t, "7", out.InstanceID)
	assert.Equal(t, "3", out.UsageValue.String())
	assert.Equal(t, time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC), out.BeginTime)
}

func TestUsageResultDecodesTolerantly(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, body string
		want       []usage.Abnormal // Raw not compared
	}{
		{"success only", `{"error_code":"MKT.0000","error_msg":"success"}`, nil},
		{"data is the list", `{"error_code":"MKT.0000","data":[{"metering_sn":"a","instance_id":"i","error_msg":"m"}]}`,
			[]usage.Abnormal{{MeteringSN: "a", InstanceID: "i", Message: "m"}}},
		{"named list in data", `{"error_code":"MKT.0000","data":{"total":1,"abnormal_usage_datas":[{"meteringSn":"a","errorCode":"E1","errorMessage":"m"}]}}`,
			[]usage.Abnormal{{MeteringSN: "a", Code: "E1", Message: "m"}}},
		{"top-level camelCase", `{"error_code":"MKT.0000","abnormalUsageData":[{"instanceId":"i","reason":"r"}]}`,
			[]usage.Abnormal{{InstanceID: "i", Message: "r"}}},
		{"a single record in data", `{"error_code":"MKT.0000","data":{"failed":{"metering_sn":"a","error_description":"d"}}}`,
			[]usage.Abnormal{{MeteringSN: "a", Message: "d"}}},
		{"numbers as text", `{"error_code":"MKT.0000","data":[{"metering_sn":12,"code":9406}]}`,
			[]usage.Abnormal{{MeteringSN: "12", Code: "9406"}}},
		{"objects without known fields are skipped", `{"error_code":"MKT.0000","data":[{"x":1},"str",3,{"msg":"only"}]}`,
			[]usage.Abnormal{{Message: "only"}}},
		{"too deep", `{"data":{"a":{"b":[{"metering_sn":"a"}]}}}`, nil},
		{"data null", `{"error_code":"MKT.0000","data":null}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var r usage.Result
			require.NoError(t, json.Unmarshal([]byte(tc.body), &r))
			assert.JSONEq(t, tc.body, string(r.Raw))
			for i := range r.Abnormal {
				assert.True(t, json.Valid(r.Abnormal[i].Raw))
				r.Abnormal[i].Raw = nil
			}
			assert.Equal(t, tc.want, r.Abnormal)
		})
	}
	var r usage.Result
	assert.Error(t, json.Unmarshal([]byte(`[1]`), &r))
	assert.True(t, errors.Is(nil, nil))
}
