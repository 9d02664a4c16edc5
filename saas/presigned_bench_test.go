package saas_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/internal/benchtest"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas"
)

// newInstanceAnswer is the lean verifier's decoding and answer of a V2
// newInstance.
func newInstanceAnswer(dst, body []byte) ([]byte, error) {
	var req struct{ Activity, OrderID, OrderLineID, BusinessID, TestFlag string }
	if err := json.Unmarshal(body, &req); err != nil {
		return dst, err
	}
	dst = append(append(dst, `{"resultCode":"000000","resultMsg":"success","instanceId":"`...), req.BusinessID...)
	return append(dst, `"}`...), nil
}

// naive is the verifier most often written by hand: what lean does, with
// url.Values, io.ReadAll and a new HMAC per stage.
func naive(key string) http.HandlerFunc {
	k := []byte(key)
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		body, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		ts, _ := strconv.ParseInt(q.Get("timestamp"), 10, 64)
		if d := time.Now().UnixMilli() - ts; d > 65_000 || d < -65_000 {
			http.Error(w, "stale", http.StatusOK)
			return
		}
		m := hmac.New(sha256.New, k)
		m.Write(body)
		inner := hex.EncodeToString(m.Sum(nil))
		m = hmac.New(sha256.New, k)
		m.Write([]byte(key + q.Get("nonce") + q.Get("timestamp") + inner))
		want, _ := hex.DecodeString(q.Get("signature"))
		if !hmac.Equal(m.Sum(nil), want) {
			http.Error(w, "forged", http.StatusOK)
			return
		}
		var req struct{ Activity, OrderID, OrderLineID, BusinessID, TestFlag string }
		if json.Unmarshal(body, &req) != nil {
			http.Error(w, "bad", http.StatusOK)
			return
		}
		w.Header()["Content-Type"] = []string{"application/json"}
		_, _ = w.Write([]byte(`{"resultCode":"000000","resultMsg":"success","instanceId":"` + req.BusinessID + `"}`))
	}
}

// presignNewInstances signs a round of V2 newInstance calls, each for a new
// order line.
func presignNewInstances(b *testing.B) []benchtest.Call {
	sender := koogallerytest.NewSender(accessKey)
	return benchtest.Presign(b, func(int) (benchtest.Call, error) {
		c := signedNewInstance(b, sender, "http://kg.test/isv/produce")
		return benchtest.Call{Method: http.MethodPost, URL: c.URL, Header: c.Header, Body: c.Body}, nil
	})
}

// BenchmarkNewInstancePresigned serves a V2 newInstance for a new order
// line, signed beforehand and without a network, through the SaaS handler
// (signature, window, replay cache, at-most-once), the lean verifier, the
// naive one and a bare handler, side by side. Each round of presigned calls
// gets a new handler (outside the timer), so that its replay cache and store
// start empty and never refuse.
//
//	go test ./saas -run XXX -bench NewInstancePresigned -benchmem -count 10 | benchstat -col /variant -
func BenchmarkNewInstancePresigned(b *testing.B) {
	benchtest.Compare(b, presignNewInstances,
		benchtest.Variant{Name: "handler", Handler: func() http.Handler {
			return saas.NewHandler(accessKey, benchProvider{}, callback.WithLogger(slog.New(slog.DiscardHandler)))
		}},
		benchtest.Variant{Name: "lean", Handler: func() http.Handler { return benchtest.LeanV2(accessKey, newInstanceAnswer) }},
		benchtest.Variant{Name: "naive", Handler: func() http.Handler { return naive(accessKey) }},
		benchtest.Variant{Name: "bare", Handler: func() http.Handler { return bare }},
	)
}
