package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericclioptions"
	"k8s.io/cli-runtime/pkg/printers"
)

// OutputFlags are -o and --template: cli-runtime's json, yaml, kyaml, name and jsonpath
// printers, as kubectl's PrintFlags offer them, but not its go-template printers. text/template
// looks methods up by name (reflect's MethodByName), and a binary that can reach that call
// keeps every exported method of every type, since the linker cannot tell which one a template
// will name: with it the binary was 54 MB and every command started with 7 MiB more resident
// (docs/benchmarks.md, start-up). -o jsonpath does what a go-template would do here.
type OutputFlags struct {
	Format   string
	jsonYAML *genericclioptions.JSONYamlPrintFlags
	name     *genericclioptions.NamePrintFlags
	jsonPath *genericclioptions.JSONPathPrintFlags
}

func newOutputFlags() *OutputFlags {
	return &OutputFlags{
		jsonYAML: genericclioptions.NewJSONYamlPrintFlags(),
		name:     genericclioptions.NewNamePrintFlags(""),
		jsonPath: genericclioptions.NewJSONPathPrintFlags("", true),
	}
}

// AddFlags adds -o with the given usage, --template and kubectl's other printing flags.
func (f *OutputFlags) AddFlags(cmd *cobra.Command, usage string) {
	f.jsonYAML.AddFlags(cmd)
	f.name.AddFlags(cmd)
	f.jsonPath.AddFlags(cmd)
	cmd.Flags().StringVarP(&f.Format, "output", "o", "", usage)
}

// AllowedFormats are the -o values the printers take.
func (f *OutputFlags) AllowedFormats() []string {
	return slices.Concat(f.jsonYAML.AllowedFormats(), f.name.AllowedFormats(), f.jsonPath.AllowedFormats())
}

// FormatName is -o without its argument (jsonpath=... -> jsonpath).
func (f *OutputFlags) FormatName() string {
	name, _, _ := strings.Cut(f.Format, "=")
	return name
}

// Validate refuses an -o the printers do not take; extra are the command's own formats (wide).
func (f *OutputFlags) Validate(extra ...string) error {
	name := f.FormatName()
	if name == "" || slices.Contains(extra, name) || slices.Contains(f.AllowedFormats(), name) {
		return nil
	}
	allowed := strings.Join(slices.Concat(extra, f.AllowedFormats()), ", ")
	// cli-runtime's names of its go-template formats (naming them links no template code).
	if slices.Contains((&genericclioptions.GoTemplatePrintFlags{}).AllowedFormats(), name) {
		return usageErr("invalid -o %q: go templates are not supported; use -o jsonpath='{...}' (or -o json), one of %s", name, allowed)
	}
	return usageErr("invalid -o %q: use one of %s", name, allowed)
}

// ToPrinter is the printer of -o.
func (f *OutputFlags) ToPrinter() (printers.ResourcePrinter, error) {
	for _, to := range []func(string) (printers.ResourcePrinter, error){f.jsonYAML.ToPrinter, f.name.ToPrinter, f.jsonPath.ToPrinter} {
		if p, err := to(f.Format); !genericclioptions.IsNoCompatiblePrinterError(err) {
			return p, err
		}
	}
	return nil, fmt.Errorf("no printer for -o %q", f.Format)
}
