package arch

import (
	"go/ast"
	"go/token"
	"strings"
	"testing"
)

// Every command pays for every package's variables at its start: about 25 regular
// expressions compiled there cost `version` and `logs` 0.4 to 1 ms of the 10 they take
// (docs/benchmarks.md, "Start-up"). A package-level expression is compiled on its first
// use (sync.OnceValue, as diagnose's and bundle's lazyRegexp), not in a variable's value.
func TestNoRegexpCompiledAtStart(t *testing.T) {
	fset := token.NewFileSet()
	vars := 0
	eachProductFile(t, fset, func(_ string, f *ast.File) {
		for _, decl := range f.Decls {
			if g, ok := decl.(*ast.GenDecl); ok && g.Tok == token.VAR {
				vars++
				for _, call := range compiledAtStart(g) {
					t.Errorf("%s: a regular expression compiled at every start: compile it on its first use (sync.OnceValue)", strings.TrimPrefix(fset.Position(call.Pos()).String(), "../../"))
				}
			}
		}
	})
	if vars < 20 {
		t.Fatalf("only %d variable declarations found: the walk missed the code", vars)
	}
}

// compiledAtStart returns the calls of regexp's Compile functions in g's values, outside
// the functions they declare (which run on use).
func compiledAtStart(g *ast.GenDecl) []*ast.CallExpr {
	var calls []*ast.CallExpr
	ast.Inspect(g, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.FuncLit:
			return false
		case *ast.CallExpr:
			if sel, ok := n.Fun.(*ast.SelectorExpr); ok {
				if pkg, ok := sel.X.(*ast.Ident); ok && pkg.Name == "regexp" && strings.Contains(sel.Sel.Name, "Compile") {
					calls = append(calls, n)
				}
			}
		}
		return true
	})
	return calls
}
