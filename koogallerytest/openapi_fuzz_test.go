package koogallerytest

import (
	"bytes"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/isvkit/koogallery/license"
)

// FuzzEventUpload feeds arbitrary multipart bodies to the fake's upload
// parser: never a panic; an accepted upload has a documented type, and for
// a file the hash it claimed and the bytes it counted.
func FuzzEventUpload(f *testing.F) {
	const boundary = "B0UNDARY"
	part := func(name, ct, body string) string {
		h := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\""
		if name == "file" {
			h += "; filename=\"a.txt\""
		}
		if ct != "" {
			h += "\r\nContent-Type: " + ct
		}
		return h + "\r\n\r\n" + body + "\r\n"
	}
	end := "--" + boundary + "--\r\n"
	hello := "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824"
	for _, s := range []string{
		part("file", "application/octet-stream", "hello") + part("isvUpdateFileReq", "application/json", `{"type":"FILE","file_name":"a.txt","sha256":"`+hello+`"}`) + end,
		part("isvUpdateFileReq", "application/json", `{"type":"CHARACTERS","characters":"abc"}`) + end,
		part("isvUpdateFileReq", "text/plain", `{}`) + end,
		part("other", "", "x") + end,
		"--" + boundary + "\r\n\r\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		up, err := parseUpload(r, 1<<20)
		if err != nil {
			return
		}
		switch up.Type {
		case license.UploadTypeCharacters:
			if up.Characters == "" {
				t.Fatal("accepted CHARACTERS without characters")
			}
		case license.UploadTypeFile:
			if _, err := hex.DecodeString(up.SHA256); err != nil || len(up.SHA256) != 64 || up.SHA256 != strings.ToLower(up.SHA256) {
				t.Fatalf("accepted a file with sha256 %q", up.SHA256)
			}
			if int64(len(up.Content)) > up.Size || up.FileName == "" {
				t.Fatalf("inconsistent upload %+v", up)
			}
		default:
			t.Fatalf("accepted type %q", up.Type)
		}
	})
}
