package arch

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// maxFunctionLines is the longest a product function may be: past it, a function does more
// than one thing, and a newcomer reads it twice.
const maxFunctionLines = 80

func TestProductFunctionsAreShort(t *testing.T) {
	fset := token.NewFileSet()
	seen := 0
	for _, root := range []string{"../../pkg", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			for _, decl := range f.Decls {
				fn, ok := decl.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				seen++
				if n := fset.Position(fn.End()).Line - fset.Position(fn.Pos()).Line + 1; n >= maxFunctionLines {
					t.Errorf("%s: %s is %d lines: split it below %d", strings.TrimPrefix(path, "../../"), fn.Name.Name, n, maxFunctionLines)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	if seen < 100 {
		t.Fatalf("only %d functions found: the walk missed the code", seen)
	}
}
