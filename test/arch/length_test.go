package arch

import (
	"go/ast"
	"go/token"
	"testing"
)

// maxFunctionLines is the longest a product function may be: past it, a function does more
// than one thing, and a newcomer reads it twice.
const maxFunctionLines = 80

func TestProductFunctionsAreShort(t *testing.T) {
	fset := token.NewFileSet()
	seen := 0
	eachProductFile(t, fset, func(path string, f *ast.File) {
		for _, decl := range f.Decls {
			fn, ok := decl.(*ast.FuncDecl)
			if !ok || fn.Body == nil {
				continue
			}
			seen++
			if n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1; n >= maxFunctionLines {
				t.Errorf("%s: %s is %d lines: split it below %d", path, fn.Name.Name, n, maxFunctionLines)
			}
		}
	})
	if seen < 100 {
		t.Fatalf("only %d functions found: the walk missed the code", seen)
	}
}
