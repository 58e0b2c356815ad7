package hopsworks

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
)

// Settings say how to reach Hopsworks. The API key comes from the environment or a file,
// never from a flag value.
type Settings struct {
	URL        string
	APIKey     string `json:"-"`
	APIKeyFile string
	// CAFile is the Hopsworks CA chain: it signs the REST endpoint and OpenSearch alike, so it
	// also verifies OpenSearch when no OpenSearch CA is given.
	CAFile  string
	Timeout time.Duration
}

// Configured says whether Hopsworks is the credential source.
func (s Settings) Configured() bool { return s.URL != "" }

// ReadKey reads the API key from its file when Hopsworks is configured: when no key was
// exported, or when a flag named the file (the flag is the stronger).
func (s *Settings) ReadKey(fileByFlag bool) error {
	if !s.Configured() || s.APIKeyFile == "" || s.APIKey != "" && !fileByFlag {
		return nil
	}
	b, err := os.ReadFile(s.APIKeyFile)
	if err != nil {
		return fmt.Errorf("cannot read the Hopsworks API key file %s: %v", s.APIKeyFile, err)
	}
	s.APIKey = strings.TrimSpace(string(b))
	return nil
}

// Warnings say what is unsafe in the settings: a key sent over plain http://, a key file
// that others can read.
func (s Settings) Warnings() []string {
	if !s.Configured() {
		return nil
	}
	var out []string
	if u, err := url.Parse(s.URL); err == nil && u.Scheme == "http" {
		out = append(out, fmt.Sprintf("warning: the Hopsworks API key goes to %s over plain http://: anyone on the way can read it; use https://", term.RedactURL(s.URL)))
	}
	if w := term.OpenToOthers(s.APIKeyFile); w != "" {
		out = append(out, w)
	}
	return out
}
