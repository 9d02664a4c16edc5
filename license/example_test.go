package license_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/license"
)

// licenses is a seller's license.Provider.
type licenses struct{ codes map[string]string }

func (l *licenses) RefreshLicenseCode(_ context.Context, req *license.RefreshLicenseCodeRequest) error {
	if _, ok := l.codes[req.License]; !ok {
		return license.ErrLicenseNotFound
	}
	l.codes[req.License] = "valid until " + req.ExpireTime.Format("2006-01-02")
	return nil
}

func (l *licenses) UpdateLicenseCodeStatus(_ context.Context, req *license.UpdateLicenseCodeStatusRequest) error {
	l.codes[req.License] = string(req.Status)
	return nil
}

func (l *licenses) ReleaseLicenseCode(_ context.Context, req *license.ReleaseLicenseCodeRequest) error {
	delete(l.codes, req.License)
	return nil
}

// Mount the handler, then test it as KooGallery calls it: koogallerytest
// signs calls exactly as KooGallery does, on a clock shared with the handler
// so that the example passes on any date.
func ExampleNewHandler() {
	const accessKey = "test-access-key" // from 卖家中心 › 应用工具 › 密钥管理
	clk := koogallerytest.NewClock(time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC))
	l := &licenses{codes: map[string]string{"LIC-1": "valid"}}
	mux := http.NewServeMux()
	mux.Handle("/isv/license", license.NewHandler(accessKey, l,
		callback.WithClock(clk.Now), callback.WithLogger(slog.New(slog.DiscardHandler))))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	url := srv.URL + "/isv/license"

	ctx := context.Background()
	kg := koogallerytest.NewSender(accessKey, koogallerytest.WithClock(clk.Now))
	for _, body := range []map[string]string{
		{"activity": "refreshLicenseCode", "license": "LIC-1", "scene": "RENEWAL", "orderId": "CS7", "orderLineId": "CS7-000001",
			"expireTime": "20271231235959"},
		{"activity": "refreshLicenseCode", "license": "LIC-404", "scene": "RENEWAL", "orderId": "CS8", "orderLineId": "CS8-000001",
			"expireTime": "20271231235959"},
		{"activity": "updateLicenseCodeStatus", "license": "LIC-1"},
	} {
		res, err := kg.Send(ctx, url, body)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(body["activity"], res.ResultCode, res.ResultMsg)
	}
	fmt.Println("LIC-1:", l.codes["LIC-1"])

	// A genuine call goes through once; its replay is refused.
	call, err := kg.Sign(url, map[string]string{"activity": "updateLicenseCodeStatus", "license": "LIC-1", "status": "FREEZE"})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, label := range []string{"genuine", "replayed"} {
		res, err := call.Send(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(label, res.ResultCode, res.ResultMsg)
	}
	fmt.Println("LIC-1:", l.codes["LIC-1"])
	// Output:
	// refreshLicenseCode 000000 success
	// refreshLicenseCode 000003 license code not found
	// updateLicenseCodeStatus 000002 missing status
	// LIC-1: valid until 2027-12-31
	// genuine 000000 success
	// replayed 000001 authentication failed
	// LIC-1: FREEZE
}
