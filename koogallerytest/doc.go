// Package koogallerytest lets sellers test their KooGallery integration
// without an account.
//
//   - Server is a fake KooGallery open API: it verifies AK/SK exactly as the
//     API gateway does, serves the nine documented mock orders, the usage
//     push (checking the seller-key body signature), the licence-code APIs
//     and event file uploads, validates like the real service, injects
//     faults (throttling, 5xx storms, HTML pages, truncated bodies, hangs)
//     and records what it received.
//   - OAuthServer is a fake joint-operation identity provider: single-use
//     codes, expiring tokens, refresh, userinfo and logout.
//   - Sender signs production-interface callbacks exactly as KooGallery
//     does (SaaS V2, License 2.0, orderNotify, kit x-sign), and produces the
//     stale, replayed, forged and tampered calls a handler must refuse.
//
// Server serves under a path prefix (BasePath), as a gateway behind a proxy
// would, so that an absolute-path bug shows in tests. WithClock sets the
// clock of every fake and sender alike: give them and the code under test
// one Clock.
//
// The conformance suites for store.Store, store.ReplayCache and
// usage.Outbox implementations, and the usage soak that drives an outbox
// against this fake, are in package koogallerytest/storetest.
package koogallerytest
