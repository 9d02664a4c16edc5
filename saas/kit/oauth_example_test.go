package kit_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/isvkit/koogallery"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/kit"
)

// Log a joint-operation buyer in. The fake identity provider stands in for
// the tenant's domain; in production the domain comes from the tenant-sync
// call and the client ID and (decrypted) secret from the application-sync
// call: kit.NewOAuthClient(domain, clientID, clientSecret).
func ExampleOAuthClient() {
	idp := koogallerytest.NewOAuthServer()
	defer idp.Close()
	oauth, err := idp.NewClient()
	if err != nil {
		log.Fatal(err)
	}
	// The login page redirects the browser back with ?code=…
	code := idp.Login(kit.OAuthUser{UserName: "alice", Tenant: "tenant-1", Role: "admin"}, "https://seller.example.com/cb")

	ctx := context.Background()
	tok, err := oauth.Exchange(ctx, code, "https://seller.example.com/cb")
	if err != nil {
		log.Fatal(err)
	}
	user, err := oauth.UserInfo(ctx, tok.AccessToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(user.UserName, user.Tenant, user.Role)

	tok, err = oauth.Refresh(ctx, tok.RefreshToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tok.TokenType, tok.ExpiresIn) // String hides the tokens themselves

	_, err = oauth.Exchange(ctx, code, "https://seller.example.com/cb")
	fmt.Println(errors.Is(err, koogallery.ErrAuthentication), err)

	logout, _ := oauth.LogoutURL("https://seller.example.com/")
	fmt.Println(logout[len(idp.URL):])
	// Output:
	// alice tenant-1 admin
	// bearer 1h0m0s
	// true kit: oauth exchange: HTTP 400 invalid_grant: Invalid authorization code: [REDACTED]
	// /api/v1/logout?redirect_url=https%3A%2F%2Fseller.example.com%2F
}
