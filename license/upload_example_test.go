package license_test

import (
	"context"
	"fmt"
	"log"
	"strings"

	"github.com/isvkit/koogallery/license"
)

// Deliver an asynchronous licence as a string, for the eventId of a
// getLicenseAsync callback.
func ExampleClient_UploadCharacters() {
	fake, licenses := exampleClient()
	defer fake.Close()
	if err := licenses.UploadCharacters(context.Background(), "EVENT-0001", "LICENSE-KEY-ABC"); err != nil {
		log.Fatal(err)
	}
	fmt.Println(fake.Uploads()[0].Characters)
	// Output: LICENSE-KEY-ABC
}

// Deliver a licence file. Content is streamed, whatever its size (use an
// *os.File and its size in practice).
func ExampleClient_UploadFile() {
	fake, licenses := exampleClient()
	defer fake.Close()
	content := "-----BEGIN LICENSE-----\n...\n-----END LICENSE-----\n"
	receipt, err := licenses.UploadFile(context.Background(), "EVENT-0001", license.File{
		Name:    "customer.lic",
		Content: strings.NewReader(content),
		Size:    int64(len(content)),
	})
	if err != nil {
		log.Fatal(err)
	}
	up := fake.Uploads()[0]
	fmt.Println(up.FileName, up.Size, up.SHA256 == receipt.SHA256)
	// Output: customer.lic 50 true
}
