// Package conformance checks package auth against the official Huawei Cloud
// Go SDK signer (github.com/huaweicloud/huaweicloud-sdk-go-v3,
// core/auth/signer) over generated requests, and benchmarks the two side by
// side. It is a separate module so the official SDK never enters the main
// module's dependencies.
package conformance
