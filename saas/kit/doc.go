// Package kit serves KooGallery's joint-operation (联营) kit: the sync
// calls KooGallery makes to a seller's server when a buyer enterprise
// (tenant) subscribes, registers its application, authorises users and
// changes its organisation, and the OAuth login of those users.
//
// NewHandler serves the five sync interfaces (tenantSync, applicationSync,
// authSync, singleOrgSync, allOrgSync) in both versions — V2 signed with the
// x-sign headers, V1 with the authToken header and Body-Sign answers — on a
// Provider the seller implements. KooGallery appends /produceAPI/v2/<name>
// (or /produceAPI/<name>) to the production URL, so mount it on a subtree:
//
//	mux.Handle("/isv/produce/", kit.NewHandler(kitKey, myProvider, kit.WithPrivateKey(rsaKey)))
//
// The handler verifies every call, refuses stale and replayed ones, types
// the requests (flags, users, departments; AllOrgSyncRequest.Tree builds the
// department forest), decrypts applicationSync's clientSecret with the
// seller's RSA key, and answers identical deliveries that already succeeded
// without calling the Provider again. Errors choose the result code as in
// package saas: a ResultError in the chain, 000005 otherwise.
//
// Once a tenant is synced, its users log in to the seller's application
// through KooGallery's OAuth endpoints at the tenant's domain: NewOAuthClient
// exchanges the login code for tokens and reads the user (userName, tenant,
// role). It does not use AK/SK. Package koogallerytest fakes the identity
// provider (OAuthServer) and signs kit calls (Sender.SignKit,
// V1Sender.SendKit).
package kit
