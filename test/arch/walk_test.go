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

// eachProductFile parses every Go file of pkg/ and cmd/ but the tests, and hands each to
// check with its path from the repository's root.
func eachProductFile(t *testing.T, fset *token.FileSet, check func(path string, f *ast.File)) {
	t.Helper()
	for _, root := range []string{"../../pkg", "../../cmd"} {
		err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			check(strings.TrimPrefix(path, "../../"), f)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}
