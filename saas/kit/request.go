package kit

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
)

// Provider is what a seller implements to receive the joint-operation
// (联营) kit sync calls (《SaaS类商品接入指南 V2.0》›「联营kit接口描述」, V1 in
// 《联营SaaS类商品接入指南 V1.0》›「联营Kit接口描述」): the buyer enterprise (tenant),
// its application credentials, which of its users may use the application,
// and its organisation. One method per interface, named after it; each
// request says which interface version (V1 or V2) KooGallery called.
//
// The handler calls a method only for a verified call whose mandatory fields
// are present. Errors choose the result code as in package saas.
//
// Wire format. Request fields name their body member and Huawei's type
// (String(64): at most 64 characters, not checked). Members are JSON scalars,
// numbers and strings alike ("flag":1 or "1"); null is absent, unknown ones
// are ignored. A missing member marked mandatory answers 000002; others are
// zero when absent. A malformed flag, number or time answers 000002.
//
// KooGallery requires every method to be idempotent: a repeated add succeeds
// without creating duplicates (upsert on the natural key: tenantId;
// tenantId+appId; tenantId+appId+userName; tenantId+orgCode), a repeated
// delete succeeds even when the record is already gone, and a delete must not
// check that the instance exists. InstanceID and OrderID are empty for the
// debugging calls the seller console makes (应用凭证申请), so do not require
// them. The handler helps: identical deliveries that succeeded are answered
// 000000 without calling the method again, and concurrent identical
// deliveries share one call; see NewHandler.
type Provider interface {
	// TenantSync adds, modifies (V2) or deletes a buyer enterprise
	// (租户信息同步 / 企业同步).
	TenantSync(ctx context.Context, req *TenantSyncRequest) error
	// ApplicationSync adds, modifies (V2) or deletes the tenant's
	// application credentials (租户应用信息同步 / 应用同步).
	ApplicationSync(ctx context.Context, req *ApplicationSyncRequest) error
	// AuthSync grants, modifies, revokes (V2) or deletes users' access to
	// the application (租户应用授权信息同步 / 用户授权同步).
	AuthSync(ctx context.Context, req *AuthSyncRequest) error
	// SingleOrgSync adds, modifies or deletes one department
	// (组织部门信息同步(增量) / 部门增量同步).
	SingleOrgSync(ctx context.Context, req *SingleOrgSyncRequest) error
	// AllOrgSync replaces the tenant's whole organisation
	// (组织部门信息同步(全量) / 部门全量同步).
	AllOrgSync(ctx context.Context, req *AllOrgSyncRequest) error
}

// Version says which version of a kit interface KooGallery called: V1
// (/produceAPI/<name>, authToken header) or V2 (/produceAPI/v2/<name>,
// x-sign headers).
type Version int

// Kit interface versions.
const (
	V1 Version = 1
	V2 Version = 2
)

// Flag is the flag member, an integer ("flag":1 or "1"): what a kit sync
// call does. Unknown values are passed through.
type Flag int

// Kit flags. Modify is V2 for tenantSync and applicationSync, and both
// versions for authSync and singleOrgSync; Revoke is V2 authSync only.
const (
	FlagDelete Flag = 0
	FlagAdd    Flag = 1
	FlagModify Flag = 2
	FlagRevoke Flag = 3 // 取消授权: revoke the users' access
)

// String returns the flag's name, or its number if unknown.
func (f Flag) String() string {
	switch f {
	case FlagDelete:
		return "delete"
	case FlagAdd:
		return "add"
	case FlagModify:
		return "modify"
	case FlagRevoke:
		return "revoke"
	}
	return strconv.Itoa(int(f))
}

// TenantSyncRequest is tenantSync, 「企业同步」 (V2) or 「租户信息同步接口」 (V1). Each
// field names its body member; see Provider for how members are read.
type TenantSyncRequest struct {
	Version    Version
	InstanceID string          // instanceId, String(64): "" for debugging calls
	OrderID    string          // orderId, String(64): "" for debugging calls
	TenantID   string          // tenantId, String(64), mandatory
	TenantCode string          // tenantCode, String(64): routes the user's login to the buyer's domain
	Name       string          // name, String(255): the enterprise's name
	DomainName string          // domainName, String(255): the unified domain of the authentication centre
	Flag       Flag            // flag, mandatory: FlagDelete, FlagAdd or FlagModify (V2: name and domain only)
	TestFlag   bool            // testFlag: 1 for a debugging call, 0 or absent otherwise
	TimeStamp  time.Time       // timeStamp, yyyyMMddHHmmssSSS in GMT+8, in UTC; zero if absent
	Raw        json.RawMessage // the body as received, for members this package does not model
}

// ApplicationSyncRequest is applicationSync, 「应用同步」 (V2) or
// 「租户应用信息同步接口」 (V1): the tenant's credentials for the seller's
// application.
type ApplicationSyncRequest struct {
	Version    Version
	InstanceID string // instanceId, String(64): "" for debugging calls
	TenantID   string // tenantId, String(64), mandatory
	AppID      string // appId, String(64), mandatory: the application ID of 应用凭证
	ClientID   string // clientId, String(64): the client ID the authentication centre issued
	// ClientSecret is the decrypted clientSecret, when the handler has the
	// seller's private key (WithPrivateKey); otherwise "". Never log it.
	ClientSecret string
	// EncryptedClientSecret is clientSecret as received: RSA-OAEP under
	// the seller's public key. Decrypt it with DecryptClientSecret when the
	// handler has no private key.
	EncryptedClientSecret string
	Flag                  Flag            // flag, mandatory
	TestFlag              bool            // testFlag
	TimeStamp             time.Time       // timeStamp, GMT+8 on the wire, in UTC
	Raw                   json.RawMessage // the body as received
}

// AuthSyncRequest is authSync, 「用户授权同步」 (V2) or 「租户应用授权信息同步接口」
// (V1): users granted, changed, revoked or deleted.
type AuthSyncRequest struct {
	Version    Version
	InstanceID string // instanceId, String(64): "" for debugging calls
	TenantID   string // tenantId, String(64), mandatory
	AppID      string // appId, String(64), mandatory
	// Users is userList, an array (V2) or JSON text (V1) of at most MaxUsers
	// users; more, or a user without userName, answers 000002.
	Users []User
	// CurrentSyncTime is currentSyncTime (GMT+8 on the wire), in UTC: when
	// KooGallery took the snapshot. Discard a sync older than one applied.
	CurrentSyncTime time.Time
	Flag            Flag            // flag, mandatory: FlagDelete, FlagAdd, FlagModify or FlagRevoke (V2)
	TestFlag        bool            // testFlag
	TimeStamp       time.Time       // timeStamp, GMT+8 on the wire, in UTC
	Raw             json.RawMessage // the body as received
}

// User is one element of userList. Members are read as scalars, like the
// body's.
type User struct {
	UserName     string          // userName, String(64), mandatory: the joint-operation account, as the SSO userinfo returns it
	Name         string          // name, String(64)
	OrgCode      string          // orgCode, String(64): the user's department
	Position     string          // position, optional
	EmployeeCode string          // employeeCode, optional
	EmployeeType EmployeeType    // employeeType, optional: an integer, 0 when absent
	Role         Role            // role: RoleAdmin for a user who must get administrator rights
	Enable       bool            // enable: "true" or "false" (1 and 0 accepted); false when absent
	Mobile       string          // mobile, String(32), optional
	Email        string          // email, String(128), optional
	WorkPlace    string          // workPlace, optional
	EntryDate    string          // entryDate, optional, as sent (documented as yyyy-MM-d)
	Extension    json.RawMessage // extension: extra attributes (ERP ledgers, custom fields) as received
}

// Role is a user's role member. Unknown values are passed through.
type Role string

// Kit roles.
const (
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

// EmployeeType is a user's employeeType member. Unknown values are passed
// through.
type EmployeeType int

// Employee types.
const (
	EmployeeRegular    EmployeeType = 1
	EmployeeIntern     EmployeeType = 2
	EmployeeDispatched EmployeeType = 3
	EmployeeOutsourced EmployeeType = 4
)

// SingleOrgSyncRequest is singleOrgSync, 「部门增量同步」 (V2) or
// 「组织部门信息同步(增量)」 (V1): one department.
type SingleOrgSyncRequest struct {
	Version    Version
	InstanceID string          // instanceId, String(64): "" for debugging calls
	TenantID   string          // tenantId, String(64), mandatory
	OrgCode    string          // orgCode, String(64), mandatory: unique in the tenant
	OrgName    string          // orgName (or name), String(128)
	ParentCode string          // parentCode, String(64), optional: "" for a top-level department
	Flag       Flag            // flag, mandatory
	TestFlag   bool            // testFlag
	TimeStamp  time.Time       // timeStamp, GMT+8 on the wire, in UTC
	Raw        json.RawMessage // the body as received
}

// AllOrgSyncRequest is allOrgSync, 「部门全量同步」 (V2) or 「组织部门信息同步(全量)」
// (V1): the tenant's whole organisation, a flat list whose ParentCode links
// form a tree (see Tree).
type AllOrgSyncRequest struct {
	Version    Version
	InstanceID string          // instanceId, String(64): "" for debugging calls
	TenantID   string          // tenantId, String(64), mandatory
	Orgs       []Org           // orgInfoList (V2) or orgInfo (V1): an array or JSON text, each with an orgCode
	TestFlag   bool            // testFlag
	TimeStamp  time.Time       // timeStamp, GMT+8 on the wire, in UTC
	Raw        json.RawMessage // the body as received
}

// Org is one department of orgInfoList.
type Org struct {
	OrgCode    string // orgCode, String(64), mandatory
	OrgName    string // orgName (V2) or name (V1), String(128)
	ParentCode string // parentCode, String(64), optional
}

// OrgNode is a department and its sub-departments.
type OrgNode struct {
	Org
	Children []*OrgNode
}

// Tree arranges Orgs as a forest, roots and children in received order. A
// department whose parent is empty, itself or not in the list is a root; so
// is, in a cycle of parent links (which the data should not have, but must
// not lose), the department received first. Every department appears exactly
// once; a repeated OrgCode keeps its first occurrence.
func (r *AllOrgSyncRequest) Tree() []*OrgNode {
	index := make(map[string]int, len(r.Orgs))
	nodes := make([]*OrgNode, 0, len(r.Orgs))
	for _, o := range r.Orgs {
		if _, dup := index[o.OrgCode]; dup {
			continue
		}
		index[o.OrgCode] = len(nodes)
		nodes = append(nodes, &OrgNode{Org: o})
	}
	parent := make([]int, len(nodes)) // -1 for a root
	for i, n := range nodes {
		p, ok := index[n.ParentCode]
		if !ok || p == i {
			p = -1
		}
		parent[i] = p
	}
	// Cut cycles: walk up from each node; meeting a node of the current walk
	// means a cycle, cut above its earliest-received member.
	const (
		unseen = iota
		walking
		done
	)
	state := make([]uint8, len(nodes))
	var chain []int
	for i := range nodes {
		chain = chain[:0]
		j := i
		for j >= 0 && state[j] == unseen {
			state[j] = walking
			chain = append(chain, j)
			j = parent[j]
		}
		if j >= 0 && state[j] == walking {
			first := j
			for k := parent[j]; k != j; k = parent[k] {
				first = min(first, k)
			}
			parent[first] = -1
		}
		for _, k := range chain {
			state[k] = done
		}
	}
	var roots []*OrgNode
	for i, n := range nodes {
		if p := parent[i]; p >= 0 {
			nodes[p].Children = append(nodes[p].Children, n)
		} else {
			roots = append(roots, n)
		}
	}
	return roots
}
