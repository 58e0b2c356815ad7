package cluster

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Selector is the label selector key=value, built by apimachinery's validating constructor:
// a value that is not a label value (a comma, a "!", 64 characters...) is an error, never a
// selector that means something else.
func Selector(key, value string) (string, error) {
	s, err := labels.ValidatedSelectorFromSet(labels.Set{key: value})
	if err != nil {
		return "", fmt.Errorf("invalid %s %q: %v", key, value, err)
	}
	return s.String(), nil
}

// ValidateName checks a deployment or project name before any API call: it must be a
// non-empty label value (what Hopsworks puts in serving.hops.works/name and
// hopsworks.ai/project).
func ValidateName(what, name string) error {
	if name == "" {
		return fmt.Errorf("the %s name is empty: give the name Hopsworks shows", what)
	}
	if errs := validation.IsValidLabelValue(name); len(errs) > 0 {
		return fmt.Errorf("invalid %s name %q: %s", what, name, strings.Join(errs, "; "))
	}
	return nil
}
