// Package saas serves KooGallery's SaaS production interfaces: the calls
// KooGallery makes to a seller's server to create, query, renew, freeze,
// release and upgrade what buyers paid for.
//
// NewHandler serves the V2 basic interface (newInstance, queryInstance,
// refreshInstance, updateInstanceStatus, releaseInstance, upgradeInstance)
// on top of a Provider the seller implements. The handler owns the
// protocol: signature verification, freshness and replay checks, decoding,
// at-most-once provisioning per order line, result codes and encoding.
//
//	mux.Handle("/isv/produce", saas.NewHandler(accessKey, myProvider))
//
// NewV1Handler serves the older SaaS V1 basic interface (GET calls signed
// with an authToken, answers signed with Body-Sign, administrator
// credentials AES-encrypted with a Java-compatible key) on a V1Provider.
// EncryptField and DecryptField do the V1 field encryption by hand.
//
//	mux.Handle("/isv/v1", saas.NewV1Handler(key, myV1Provider))
//
// Result codes. Every answer is HTTP 200 with a JSON object whose resultCode
// (String(6)) and resultMsg (String(255)) come first. A call that cannot be
// proven to come from KooGallery (bad or missing signature, timestamp
// outside the window, replayed nonce) answers 000001; a verified call that
// is malformed (not a JSON object, unknown activity, missing or invalid
// field) answers 000002. Neither reaches the Provider. A Provider error
// answers the code of the ResultError in its chain (ErrInvalidParameter
// 000002, ErrInstanceNotFound 000003, ErrProcessing 000004, NewResultError
// for the business codes), and 000005 otherwise; a panic in the Provider
// answers 000005 too. The text of other errors and panics goes to the
// logger, never to KooGallery.
//
// Wire format. Each request field names the JSON member (V2) or query
// parameter (V1) it is read from, with Huawei's documented type and maximum
// length (String(64): at most 64 characters, not checked). A mandatory one
// that is absent, empty or null answers 000002 "missing <name>"; an absent
// optional one is the zero value. V2 members may be JSON strings, numbers or
// booleans alike ("testFlag":0 or "0"); null is absent; unknown members are
// ignored. V1 parameters are URL-decoded; the first of a repeated one counts.
// testFlag 1 (or true) marks a debugging call from the seller console, 0,
// false or absent a real one. Times are yyyyMMddHHmmss in UTC (17-digit
// yyyyMMddHHmmssSSS accepted). A malformed flag, number or time, or an object
// where a scalar belongs, answers 000002.
//
// Several replicas share the at-most-once records through a Store
// (callback.WithStore; the modules store/redisstore and store/pgstore). Package
// koogallerytest sends genuinely signed calls for testing a Provider end to
// end.
//
// Related packages: saas/kit serves the joint-operation (联营) kit sync and
// logs its users in with KooGallery's OAuth; saas/usage pushes pay-per-use
// usage; order queries the orders these calls refer to.
package saas
