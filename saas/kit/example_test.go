package kit_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/isvkit/koogallery/callback"
	"github.com/isvkit/koogallery/koogallerytest"
	"github.com/isvkit/koogallery/saas/kit"
)

// kitShop is a seller's Provider: every method is an idempotent upsert
// or delete on its natural key.
type kitShop struct {
	mu      sync.Mutex
	tenants map[string]string          // tenantId → name
	users   map[string]map[string]bool // tenantId/appId → userName → admin
}

func (s *kitShop) TenantSync(_ context.Context, req *kit.TenantSyncRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.Flag == kit.FlagDelete {
		delete(s.tenants, req.TenantID) // already gone is fine
		return nil
	}
	s.tenants[req.TenantID] = req.Name // add and modify: upsert
	return nil
}

func (s *kitShop) ApplicationSync(context.Context, *kit.ApplicationSyncRequest) error { return nil }

func (s *kitShop) AuthSync(_ context.Context, req *kit.AuthSyncRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := req.TenantID + "/" + req.AppID
	if s.users[key] == nil {
		s.users[key] = map[string]bool{}
	}
	for _, u := range req.Users {
		switch req.Flag {
		case kit.FlagDelete, kit.FlagRevoke:
			delete(s.users[key], u.UserName)
		default:
			s.users[key][u.UserName] = u.Role == kit.RoleAdmin
		}
	}
	return nil
}

func (s *kitShop) SingleOrgSync(context.Context, *kit.SingleOrgSyncRequest) error { return nil }

func (s *kitShop) AllOrgSync(_ context.Context, req *kit.AllOrgSyncRequest) error {
	var print func(nodes []*kit.OrgNode, depth int)
	print = func(nodes []*kit.OrgNode, depth int) {
		for _, n := range nodes {
			fmt.Println(strings.Repeat("  ", depth) + n.OrgName)
			print(n.Children, depth+1)
		}
	}
	print(req.Tree(), 0)
	return nil
}

// Mount the kit handler on a subtree, then test it as KooGallery calls it:
// koogallerytest signs V2 (x-sign) and V1 (authToken) kit calls exactly as
// KooGallery does, on a clock shared with the handler.
func ExampleNewHandler() {
	const kitKey = "test-kit-key" // the kit binding's key
	clk := koogallerytest.NewClock(time.Date(2026, 11, 27, 8, 30, 0, 0, time.UTC))
	mux := http.NewServeMux()
	// KooGallery appends /produceAPI/v2/<name> (or /produceAPI/<name> for
	// V1) to the production URL: mount the kit handler on the subtree.
	mux.Handle("/isv/produce/", kit.NewHandler(kitKey, &kitShop{tenants: map[string]string{}, users: map[string]map[string]bool{}},
		callback.WithClock(clk.Now), callback.WithLogger(slog.New(slog.DiscardHandler))))
	srv := httptest.NewServer(mux)
	defer srv.Close()
	base := srv.URL + "/isv/produce/produceAPI"

	ctx := context.Background()
	v2 := koogallerytest.NewSender(kitKey, koogallerytest.WithClock(clk.Now))
	for _, c := range []struct {
		name string
		body string
		opts []koogallerytest.CallOption
	}{
		{"tenantSync", `{"tenantId":"t-1","tenantCode":"acme","name":"ACME Ltd","domainName":"https://acme.example.com","flag":1,"testFlag":1}`, nil},
		{"authSync", `{"tenantId":"t-1","appId":"app-1","flag":1,"currentSyncTime":"20261127163000000",` +
			`"userList":[{"userName":"zhang.san","name":"Zhang San","orgCode":"rd","role":"admin","enable":"true"}]}`, nil},
		{"authSync", `{"tenantId":"t-1","appId":"app-1","flag":1,"currentSyncTime":"20261127163000000","userList":` + usersJSON(501) + `}`, nil},
		{"tenantSync", `{"tenantId":"t-1","flag":0}`, []koogallerytest.CallOption{koogallerytest.ForgedKey("guessed-key")}},
	} {
		call, err := v2.SignKit(base+"/v2/"+c.name, c.body, c.opts...)
		if err != nil {
			fmt.Println(err)
			return
		}
		res, err := call.Send(ctx)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println("v2", c.name, res.ResultCode, res.ResultMsg)
	}

	// V1: authToken header, orgInfo as JSON text; the answer's Body-Sign is
	// checked by the sender.
	v1 := koogallerytest.NewV1Sender(kitKey, koogallerytest.WithClock(clk.Now))
	res, err := v1.SendKit(ctx, base+"/allOrgSync", map[string]any{"tenantId": "t-1",
		"orgInfo": `[{"orgCode":"rd","name":"R&D","parentCode":"root"},{"orgCode":"root","name":"ACME"},{"orgCode":"web","name":"Web","parentCode":"rd"}]`})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("v1 allOrgSync", res.ResultCode, res.ResultMsg)
	// Output:
	// v2 tenantSync 000000 success
	// v2 authSync 000000 success
	// v2 authSync 000002 too many users in userList (at most 500)
	// v2 tenantSync 000001 authentication failed
	// ACME
	//   R&D
	//     Web
	// v1 allOrgSync 000000 success
}
