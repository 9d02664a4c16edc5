// Package v1sign implements the security tokens of KooGallery's V1 production
// interfaces (KooGallery's SaaS V1 pages zh-cn_topic_0070649156,
// zh-cn_topic_0070649135 and zh-cn_topic_0070649157), both the verifying side
// (the seller's handlers) and the signing side (koogallerytest):
//
//   - the authToken of a V1 GET query (ParseQuery, Query.Verify, SignQuery,
//     VerifyQueryValues),
//   - the authToken header of a V1 joint-operation kit POST body (SignKit,
//     VerifyKit),
//   - the Body-Sign header of every V1 response (BodySign, VerifyBodySign).
//
// All three are Base64 HMAC-SHA256 over a string with a key derived from the
// seller Key. MACs are compared in constant time, and no error names the Key,
// a token or a computed MAC.
package v1sign
