package cli

import (
	"context"
	"sort"
	"time"

	"github.com/spf13/cobra"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// completeDeployments completes the first argument with the deployment names of the namespace.
func completeDeployments(g *Globals) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		c, err := g.Clients()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ns, err := g.Namespace(ctx, c, nil)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names, _ := c.Names(ctx, ns)
		sort.Strings(names)
		return names, cobra.ShellCompDirectiveNoFileComp
	}
}

func completeNamespaces(ctx context.Context, g *Globals) ([]string, cobra.ShellCompDirective) {
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := g.Clients()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	l, err := c.Kube.CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, n := range l.Items {
		out = append(out, n.Name)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
