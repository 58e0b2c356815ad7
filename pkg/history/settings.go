package history

import (
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/hopsworks"
	text "github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
)

// Settings say how to reach OpenSearch. Secrets come from the environment or files, never
// from a flag value, and never appear in output or errors.
type Settings struct {
	URL                string
	User               string
	Password           string `json:"-"`
	PasswordFile       string
	CAFile             string
	InsecureSkipVerify bool
	// TLSServerName verifies OpenSearch's certificate against this host name instead of the
	// URL's (a certificate made for the node's name, reached through another address).
	TLSServerName string
	// VerifyChainOnly verifies the certificate's chain but not its host name, as Hopsworks'
	// own client does: an explicit opt-in, warned of.
	VerifyChainOnly bool
	Token           string `json:"-"` // bearer token
	// Tokens hands out renewable tokens (a Hopsworks project's OpenSearch JWT); it wins over
	// Token. Set by the command from the Hopsworks settings, not from a file.
	Tokens    TokenSource `json:"-"`
	TokenFile string
	APIKey    string `json:"-"`
	Index     string
	Timeout   time.Duration
	// Slices is how many time slices an export reads at once (0: DefaultSlices; 1:
	// sequential), from HOPSDEPLOY_OPENSEARCH_SLICES: lower it for a small OpenSearch.
	Slices int
	// Hopsworks, when set, hands out the OpenSearch token (and, without URL, says where
	// OpenSearch is): how a Hopsworks user, who has an API key and no OpenSearch password,
	// reads history.
	Hopsworks hopsworks.Settings
	// Warnings say what is unsafe in these settings (a password over http://, verification
	// off, a secret file others can read); the command prints them on stderr.
	Warnings []string `json:"-"`
}

// Configured says whether history can be read: an OpenSearch URL, or Hopsworks to ask for one.
func (s Settings) Configured() bool { return s.URL != "" || s.Hopsworks.Configured() }

// Complete finishes settings that the command layer merged (pkg/cli's settings table): it
// refuses a URL that carries credentials, lets Hopsworks' CA verify OpenSearch when no other
// is given, reads the password and token files (the password file again when it was named by
// a flag, over an exported password), checks that verifying only the chain has a CA, and
// lists what is unsafe in Warnings. insecureByFlag says where verification was turned off.
func (s *Settings) Complete(passwordFileByFlag, insecureByFlag bool) error {
	if u, err := url.Parse(s.URL); err == nil && u.User != nil {
		return fmt.Errorf("the OpenSearch URL %s carries credentials: remove them from it (a URL ends up in shell history, process lists and logs) and give the user with --opensearch-user and the password in HOPSDEPLOY_OPENSEARCH_PASSWORD or --opensearch-password-file", redactURL(s.URL))
	}
	if s.Hopsworks.Configured() && s.CAFile == "" {
		s.CAFile = s.Hopsworks.CAFile // Hopsworks' CA signs its OpenSearch too
	}
	read := func(path, what string) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("cannot read the OpenSearch %s file %s: %v", what, path, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	var err error
	if s.PasswordFile != "" && s.Password == "" || passwordFileByFlag {
		if s.Password, err = read(s.PasswordFile, "password"); err != nil {
			return err
		}
	}
	if s.TokenFile != "" && s.Token == "" {
		if s.Token, err = read(s.TokenFile, "token"); err != nil {
			return err
		}
	}
	if s.VerifyChainOnly && !s.InsecureSkipVerify && s.CAFile == "" && s.Configured() {
		// Against the system's roots, any publicly trusted certificate for any name would pass.
		return fmt.Errorf("verifying only OpenSearch's certificate chain needs the CA that signs it: give it with --opensearch-ca (or HOPSWORKS_CA), or check the host name with --opensearch-tls-server-name instead")
	}
	s.Warnings = append(s.Warnings, warnings(*s, insecureByFlag)...)
	return nil
}

// warnings lists what is unsafe in resolved settings.
func warnings(s Settings, insecureByFlag bool) []string {
	out := s.Hopsworks.Warnings()
	if !s.Configured() {
		return out
	}
	// A project token from Hopsworks is a credential too; where OpenSearch's URL comes from
	// Hopsworks, it is https://, and the TLS settings below apply to it all the same.
	credentials := s.Password != "" || s.Token != "" || s.APIKey != "" || (s.Hopsworks.Configured() && s.User == "")
	if u, err := url.Parse(s.URL); err == nil && u.Scheme == "http" && credentials {
		out = append(out, fmt.Sprintf("warning: the OpenSearch credentials go to %s over plain http://: anyone on the way can read them; use https://", redactURL(s.URL)))
	}
	if s.InsecureSkipVerify {
		from := "the environment or the config file"
		if insecureByFlag {
			from = "--opensearch-insecure-skip-verify"
		}
		out = append(out, fmt.Sprintf("warning: TLS verification of OpenSearch is off (%s): anyone on the way can pose as it", from))
	}
	if s.VerifyChainOnly && !s.InsecureSkipVerify {
		out = append(out, "warning: OpenSearch's certificate chain is verified but not its host name (as Hopsworks' client does): a server with any certificate from that CA can pose as it; --opensearch-tls-server-name checks the name instead")
	}
	for _, f := range []string{s.PasswordFile, s.TokenFile} {
		if w := text.OpenToOthers(f); w != "" {
			out = append(out, w)
		}
	}
	return out
}
