package kit_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/isvkit/koogallery/saas/kit"
)

// render writes a forest as "code(child,child),code".
func render(nodes []*kit.OrgNode) string {
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
	org := func(code, parent string) kit.Org {
		return kit.Org{OrgCode: code, OrgName: "name of " + code, ParentCode: parent}
	}
	for _, tt := range []struct {
		name string
		orgs []kit.Org
		want string
	}{
		{"empty", nil, ""},
		{"children before parents, received order kept",
			[]kit.Org{org("web", "rd"), org("rd", "root"), org("ops", "root"), org("root", ""), org("api", "rd")}, "root(rd(web,api),ops)"},
		{"missing parent is a root", []kit.Org{org("a", "gone"), org("b", "a")}, "a(b)"},
		{"own parent is a root", []kit.Org{org("a", "a"), org("b", "")}, "a,b"},
		{"cycle cut at its first member", []kit.Org{org("x", "b"), org("b", "a"), org("a", "b"), org("c", "a")}, "b(x,a(c))"},
		{"cycle met from outside", []kit.Org{org("x", "a"), org("a", "b"), org("b", "c"), org("c", "a")}, "a(x,c(b))"},
		{"duplicate code keeps the first", []kit.Org{org("a", ""), org("b", "a"), org("a", "b")}, "a(b)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := &kit.AllOrgSyncRequest{Orgs: tt.orgs}
			roots := req.Tree()
			assert.Equal(t, tt.want, render(roots))
			count := 0
			var walk func([]*kit.OrgNode)
			walk = func(ns []*kit.OrgNode) {
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
