package license_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"

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

func ExampleNewHandler() {
	const accessKey = "test-access-key"
	l := &licenses{codes: map[string]string{"LIC-1": "valid"}}
	mux := http.NewServeMux()
	mux.Handle("/isv/license", license.NewHandler(accessKey, l, license.WithLogger(slog.New(slog.DiscardHandler))))
	srv := httptest.NewServer(mux)
	defer srv.Close()

	kg := koogallerytest.NewSender(accessKey)
	for _, body := range []map[string]string{
		{"activity": "refreshLicenseCode", "license": "LIC-1", "scene": "RENEWAL", "orderId": "CS7", "orderLineId": "CS7-000001",
			"expireTime": "20271231235959"},
		{"activity": "refreshLicenseCode", "license": "LIC-404", "scene": "RENEWAL", "orderId": "CS8", "orderLineId": "CS8-000001",
			"expireTime": "20271231235959"},
		{"activity": "updateLicenseCodeStatus", "license": "LIC-1"},
	} {
		res, err := kg.Send(context.Background(), srv.URL+"/isv/license", body)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(body["activity"], res.ResultCode, res.ResultMsg)
	}
	fmt.Println("LIC-1:", l.codes["LIC-1"])
	// Output:
	// refreshLicenseCode 000000 success
	// refreshLicenseCode 000003 license code not found
	// updateLicenseCodeStatus 000002 missing status
	// LIC-1: valid until 2027-12-31
}
