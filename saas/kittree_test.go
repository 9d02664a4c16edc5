package saas_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/isvkit/koogallery/saas"
)

// render writes a forest as "code(child,child),code".
func render(nodes []*saas.KitOrgNode) string {
	parts := make([]string, len(nodes))
	for i, n := range nodes {
		parts[i] = n.OrgCode
		if len(n.Children) > 0 {
			parts[i] += "(" + render(n.Children) + ")"
		}
	}
	return strings.Join(parts, ",")
}

func TestAllOrgSyncTree(t *testing.T) {
	t.Parallel()
	org := func(code, parent string) saas.KitOrg {
		return saas.KitOrg{OrgCode: code, OrgName: "name of " + code, ParentCode: parent}
	}
	for _, tt := range []struct {
		name string
		orgs []saas.KitOrg
		want string
	}{
		{"empty", nil, ""},
		{"children before parents, received order kept",
			[]saas.KitOrg{org("web", "rd"), org("rd", "root"), org("ops", "root"), org("root", ""), org("api", "rd")}, "root(rd(web,api),ops)"},
		{"missing parent is a root", []saas.KitOrg{org("a", "gone"), org("b", "a")}, "a(b)"},
		{"own parent is a root", []saas.KitOrg{org("a", "a"), org("b", "")}, "a,b"},
		{"cycle cut at its first member", []saas.KitOrg{org("x", "b"), org("b", "a"), org("a", "b"), org("c", "a")}, "b(x,a(c))"},
		{"cycle met from outside", []saas.KitOrg{org("x", "a"), org("a", "b"), org("b", "c"), org("c", "a")}, "a(x,c(b))"},
		{"duplicate code keeps the first", []saas.KitOrg{org("a", ""), org("b", "a"), org("a", "b")}, "a(b)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := &saas.AllOrgSyncRequest{Orgs: tt.orgs}
			roots := req.Tree()
			assert.Equal(t, tt.want, render(roots))
			count := 0
			var walk func([]*saas.KitOrgNode)
			walk = func(ns []*saas.KitOrgNode) {
				for _, n := range ns {
					count++
					assert.Equal(t, "name of "+n.OrgCode, n.OrgName)
					walk(n.Children)
				}
			}
			walk(roots)
			unique := map[string]bool{}
			for _, o := range tt.orgs {
				unique[o.OrgCode] = true
			}
			assert.Equal(t, len(unique), count, "every department exactly once")
		})
	}
}
