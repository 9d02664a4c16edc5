package kit

import (
	"context"
	"encoding/json"
	"strconv"
	"time"
)

// Provider is what a seller implements to receive the joint-operation
// (联营) kit sync calls (spec callbacks.md §7): the buyer enterprise (tenant),
// its application credentials, which of its users may use the application,
// and its organisation. One method per interface, named after it; each
// request says which interface version (V1 or V2) KooGallery called.
//
// The handler calls a method only for a verified call whose mandatory fields
// are present. Errors choose the result code as for Provider.
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

// Flag says what a kit sync call does. Unknown values are passed through.
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

// TenantSyncRequest is a tenantSync call: a buyer enterprise.
type TenantSyncRequest struct {
	Version Version
	// InstanceID and OrderID are empty for debugging calls.
	InstanceID string
	OrderID    string
	TenantID   string
	// TenantCode identifies the tenant in the user's login, routing it to
	// the buyer's domain.
	TenantCode string
	// Name is the enterprise's name; DomainName the unified domain the
	// authentication centre returned. Modify changes only these two.
	Name       string
	DomainName string
	Flag       Flag
	TestFlag   bool
	// TimeStamp is when KooGallery sent the call (sent in GMT+8), in UTC;
	// zero if not sent (V2).
	TimeStamp time.Time
	// Raw is the body as received, for fields this package does not model.
	Raw json.RawMessage
}

// ApplicationSyncRequest is an applicationSync call: the tenant's
// credentials for the seller's application.
type ApplicationSyncRequest struct {
	Version    Version
	InstanceID string
	TenantID   string
	// AppID is the application ID of 应用凭证; ClientID the client ID the
	// authentication centre issued.
	AppID    string
	ClientID string
	// ClientSecret is the decrypted client secret, when the handler has the
	// seller's private key (WithPrivateKey); otherwise empty. Never log it.
	ClientSecret string
	// EncryptedClientSecret is the clientSecret as received: RSA-OAEP under
	// the seller's public key. Decrypt it with DecryptClientSecret when the
	// handler has no private key.
	EncryptedClientSecret string
	Flag                  Flag
	TestFlag              bool
	TimeStamp             time.Time
	Raw                   json.RawMessage
}

// AuthSyncRequest is an authSync call: users granted, changed, revoked or
// deleted, at most 500 per call.
type AuthSyncRequest struct {
	Version    Version
	InstanceID string
	TenantID   string
	AppID      string
	Users      []User
	// CurrentSyncTime is when KooGallery took the snapshot (sent in GMT+8),
	// in UTC; zero if not sent. Use it to discard a sync older than one
	// already applied.
	CurrentSyncTime time.Time
	Flag            Flag
	TestFlag        bool
	TimeStamp       time.Time
	Raw             json.RawMessage
}

// User is one user of an authSync call.
type User struct {
	// UserName is the joint-operation account, the userName the SSO
	// userinfo returns.
	UserName     string
	Name         string
	OrgCode      string
	Position     string
	EmployeeCode string
	// EmployeeType is 0 when not sent.
	EmployeeType EmployeeType
	// Role is RoleAdmin for a user who must get administrator rights.
	Role Role
	// Enable is false for a disabled user, and when not sent.
	Enable    bool
	Mobile    string
	Email     string
	WorkPlace string
	// EntryDate is as sent (documented as yyyy-MM-d).
	EntryDate string
	// Extension carries extra attributes (ERP ledgers, custom fields) as
	// received; nil when not sent.
	Extension json.RawMessage
}

// Role is a user's role in the seller's application. Unknown values are
// passed through.
type Role string

// Kit roles.
const (
	RoleUser  Role = "user"
	RoleAdmin Role = "admin"
)

// EmployeeType is the kind of employment of a user. Unknown values are
// passed through.
type EmployeeType int

// Employee types.
const (
	EmployeeRegular    EmployeeType = 1
	EmployeeIntern     EmployeeType = 2
	EmployeeDispatched EmployeeType = 3
	EmployeeOutsourced EmployeeType = 4
)

// SingleOrgSyncRequest is a singleOrgSync call: one department.
type SingleOrgSyncRequest struct {
	Version    Version
	InstanceID string
	TenantID   string
	// OrgCode is unique in the tenant; ParentCode is empty for a top-level
	// department.
	OrgCode    string
	OrgName    string
	ParentCode string
	Flag       Flag
	TestFlag   bool
	TimeStamp  time.Time
	Raw        json.RawMessage
}

// AllOrgSyncRequest is an allOrgSync call: the tenant's whole organisation,
// a flat list whose ParentCode links form a tree (see Tree).
type AllOrgSyncRequest struct {
	Version    Version
	InstanceID string
	TenantID   string
	Orgs       []Org
	TestFlag   bool
	TimeStamp  time.Time
	Raw        json.RawMessage
}

// Org is one department.
type Org struct {
	OrgCode    string
	OrgName    string
	ParentCode string
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
