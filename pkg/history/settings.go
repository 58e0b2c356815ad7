package history

import (
	"fmt"

	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/hopsworks"

	"sigs.k8s.io/yaml"
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

// fileSettings is the config file's opensearch block.
type fileSettings struct {
	URL                string `json:"url,omitempty"`
	User               string `json:"user,omitempty"`
	PasswordFile       string `json:"passwordFile,omitempty"`
	CA                 string `json:"ca,omitempty"`
	InsecureSkipVerify *bool  `json:"insecureSkipVerify,omitempty"`
	TLSServerName      string `json:"tlsServerName,omitempty"`
	VerifyChainOnly    *bool  `json:"verifyChainOnly,omitempty"`
	TokenFile          string `json:"tokenFile,omitempty"`
	Index              string `json:"index,omitempty"`
}

// fileHopsworks is the config file's hopsworks block.
type fileHopsworks struct {
	URL        string `json:"url,omitempty"`
	APIKeyFile string `json:"apiKeyFile,omitempty"`
	CA         string `json:"ca,omitempty"`
}

// ConfigFile is ~/.config/hopsdeploy/config.yaml: defaults, and per kube context overrides.
//
//	opensearch: {url: https://os.example.com:9200, user: alice, passwordFile: ~/.config/hopsdeploy/os-pass, ca: /etc/ssl/hops-ca.pem}
//	hopsworks: {url: https://hopsworks.example.com, apiKeyFile: ~/.config/hopsdeploy/api-key, ca: /etc/ssl/hops-ca.pem}
//	contexts:
//	  prod: {opensearch: {url: https://os.prod.example.com}, hopsworks: {url: https://hopsworks.prod.example.com}}
type ConfigFile struct {
	OpenSearch fileSettings  `json:"opensearch,omitempty"`
	Hopsworks  fileHopsworks `json:"hopsworks,omitempty"`
	Contexts   map[string]struct {
		OpenSearch fileSettings  `json:"opensearch,omitempty"`
		Hopsworks  fileHopsworks `json:"hopsworks,omitempty"`
	} `json:"contexts,omitempty"`
}

func (f fileHopsworks) apply(h *hopsworks.Settings) {
	if f.URL != "" {
		h.URL = f.URL
		h.APIKeyFile = "" // the overridden block's key is for its own Hopsworks
	}
	if f.APIKeyFile != "" {
		h.APIKeyFile = expand(f.APIKeyFile)
	}
	if f.CA != "" {
		h.CAFile = expand(f.CA)
	}
}

// ConfigPath is $HOPSDEPLOY_CONFIG, else $XDG_CONFIG_HOME/hopsdeploy/config.yaml, else
// ~/.config/hopsdeploy/config.yaml.
func ConfigPath() string {
	if p := os.Getenv("HOPSDEPLOY_CONFIG"); p != "" {
		return p
	}
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, _ := os.UserHomeDir()
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "hopsdeploy", "config.yaml")
}

// LoadConfig reads a config file; a missing file is an empty config.
func LoadConfig(path string) (*ConfigFile, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return &ConfigFile{}, nil
	}
	if err != nil {
		return nil, err
	}
	return ParseConfig(b, path)
}

// ParseConfig parses a config file's content, refusing unknown keys.
func ParseConfig(b []byte, path string) (*ConfigFile, error) {
	c := &ConfigFile{}
	if err := yaml.UnmarshalStrict(b, c); err != nil {
		return nil, fmt.Errorf("config file %s: %v", path, err)
	}
	return c, nil
}

func (f fileSettings) apply(s *Settings) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	if f.URL != "" {
		// A block that names another host does not send it the credentials, nor check it
		// against the host name, of the block it overrides: it names its own or none.
		s.User, s.PasswordFile, s.TokenFile, s.TLSServerName = "", "", "", ""
	}
	set(&s.URL, f.URL)
	set(&s.User, f.User)
	set(&s.PasswordFile, expand(f.PasswordFile))
	set(&s.CAFile, expand(f.CA))
	set(&s.TokenFile, expand(f.TokenFile))
	set(&s.Index, f.Index)
	if f.InsecureSkipVerify != nil {
		s.InsecureSkipVerify = *f.InsecureSkipVerify
	}
	set(&s.TLSServerName, f.TLSServerName)
	if f.VerifyChainOnly != nil {
		s.VerifyChainOnly = *f.VerifyChainOnly
	}
}

func expand(p string) string {
	if strings.HasPrefix(p, "~/") {
		home, _ := os.UserHomeDir()
		return filepath.Join(home, p[2:])
	}
	return p
}

// Resolve merges, from weakest to strongest: the config file (defaults, then the kube
// context's block), the environment (HOPSDEPLOY_OPENSEARCH_*), then the flags; and reads
// the password and token files.
func Resolve(cfg *ConfigFile, kubeContext string, env func(string) string, flags Settings, flagSet func(string) bool) (Settings, error) {
	var s Settings
	if cfg != nil {
		cfg.OpenSearch.apply(&s)
		cfg.Hopsworks.apply(&s.Hopsworks)
		if c, ok := cfg.Contexts[kubeContext]; ok {
			c.OpenSearch.apply(&s)
			c.Hopsworks.apply(&s.Hopsworks)
		}
	}
	// Exported credentials go where the environment, or the config file's default block,
	// says; not to a host that only a kube context's block names (a context switched after
	// the export): they are left out there, and a note says so.
	var notes []string
	contextURL := func(isHopsworks bool) (string, bool) {
		if cfg == nil {
			return "", false
		}
		c, ok := cfg.Contexts[kubeContext]
		if isHopsworks {
			return c.Hopsworks.URL, ok && c.Hopsworks.URL != ""
		}
		return c.OpenSearch.URL, ok && c.OpenSearch.URL != ""
	}
	overlay := func(prefix string, isHopsworks bool, fields map[string]*string, credentials ...string) {
		u, fromContext := contextURL(isHopsworks)
		fromContext = fromContext && env(prefix+"URL") == ""
		for name, dst := range fields {
			v := env(prefix + name)
			if v == "" {
				continue
			}
			if fromContext && slices.Contains(credentials, name) {
				notes = append(notes, fmt.Sprintf("note: %s%s is not sent to %s, which only the config file's block for kube context %q names: give that block its own credentials, or set %sURL too", prefix, name, redactURL(u), kubeContext, prefix))
				continue
			}
			*dst = v
		}
	}
	overlay("HOPSWORKS_", true, map[string]*string{"URL": &s.Hopsworks.URL, "API_KEY": &s.Hopsworks.APIKey, "API_KEY_FILE": &s.Hopsworks.APIKeyFile, "CA": &s.Hopsworks.CAFile},
		"API_KEY", "API_KEY_FILE")
	overlay("HOPSDEPLOY_OPENSEARCH_", false, map[string]*string{"URL": &s.URL, "USER": &s.User, "PASSWORD": &s.Password, "PASSWORD_FILE": &s.PasswordFile,
		"CA": &s.CAFile, "TLS_SERVER_NAME": &s.TLSServerName, "TOKEN": &s.Token, "TOKEN_FILE": &s.TokenFile, "API_KEY": &s.APIKey, "INDEX": &s.Index},
		"USER", "PASSWORD", "PASSWORD_FILE", "TOKEN", "TOKEN_FILE", "API_KEY")
	if v := env("HOPSDEPLOY_OPENSEARCH_SLICES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 32 {
			return s, fmt.Errorf("invalid HOPSDEPLOY_OPENSEARCH_SLICES %q: use a number from 1 (sequential) to 32", v)
		}
		s.Slices = n
	}
	if v := env("HOPSDEPLOY_OPENSEARCH_INSECURE_SKIP_VERIFY"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return s, fmt.Errorf("invalid HOPSDEPLOY_OPENSEARCH_INSECURE_SKIP_VERIFY %q: use true or false", v)
		}
		s.InsecureSkipVerify = b
	}
	if flagSet("opensearch-url") {
		s.URL = flags.URL
	}
	if flagSet("opensearch-user") {
		s.User = flags.User
	}
	if flagSet("opensearch-password-file") {
		s.PasswordFile = flags.PasswordFile
	}
	if flagSet("opensearch-ca") {
		s.CAFile = flags.CAFile
	}
	if flagSet("opensearch-insecure-skip-verify") {
		s.InsecureSkipVerify = flags.InsecureSkipVerify
	}
	if flagSet("opensearch-tls-server-name") {
		s.TLSServerName = flags.TLSServerName
	}
	if flagSet("opensearch-tls-verify-chain-only") {
		s.VerifyChainOnly = flags.VerifyChainOnly
	}
	if flagSet("index") {
		s.Index = flags.Index
	}
	if flagSet("hopsworks-url") {
		s.Hopsworks.URL = flags.Hopsworks.URL
	}
	if flagSet("hopsworks-api-key-file") {
		s.Hopsworks.APIKeyFile = flags.Hopsworks.APIKeyFile
	}
	if flagSet("hopsworks-ca") {
		s.Hopsworks.CAFile = flags.Hopsworks.CAFile
	}
	s.Timeout = flags.Timeout
	s.Hopsworks.Timeout = flags.Timeout
	read := func(path, what string) (string, error) {
		b, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("cannot read the OpenSearch %s file %s: %v", what, path, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if u, err := url.Parse(s.URL); err == nil && u.User != nil {
		return s, fmt.Errorf("the OpenSearch URL %s carries credentials: remove them from it (a URL ends up in shell history, process lists and logs) and give the user with --opensearch-user and the password in HOPSDEPLOY_OPENSEARCH_PASSWORD or --opensearch-password-file", redactURL(s.URL))
	}
	var err error
	if s.Hopsworks.Configured() {
		if s.Hopsworks.APIKeyFile != "" && (s.Hopsworks.APIKey == "" || flagSet("hopsworks-api-key-file")) {
			b, err := os.ReadFile(s.Hopsworks.APIKeyFile)
			if err != nil {
				return s, fmt.Errorf("cannot read the Hopsworks API key file %s: %v", s.Hopsworks.APIKeyFile, err)
			}
			s.Hopsworks.APIKey = strings.TrimSpace(string(b))
		}
		if s.CAFile == "" {
			s.CAFile = s.Hopsworks.CAFile // Hopsworks' CA signs its OpenSearch too
		}
	}
	if s.PasswordFile != "" && s.Password == "" || flagSet("opensearch-password-file") {
		if s.Password, err = read(s.PasswordFile, "password"); err != nil {
			return s, err
		}
	}
	if s.TokenFile != "" && s.Token == "" {
		if s.Token, err = read(s.TokenFile, "token"); err != nil {
			return s, err
		}
	}
	if s.VerifyChainOnly && !s.InsecureSkipVerify && s.CAFile == "" && s.Configured() {
		// Against the system's roots, any publicly trusted certificate for any name would pass.
		return s, fmt.Errorf("verifying only OpenSearch's certificate chain needs the CA that signs it: give it with --opensearch-ca (or HOPSWORKS_CA), or check the host name with --opensearch-tls-server-name instead")
	}
	s.Warnings = append(notes, warnings(s, flagSet("opensearch-insecure-skip-verify"))...)
	return s, nil
}

// warnings lists what is unsafe in resolved settings.
func warnings(s Settings, insecureByFlag bool) []string {
	var out []string
	if h := s.Hopsworks; h.Configured() {
		if u, err := url.Parse(h.URL); err == nil && u.Scheme == "http" {
			out = append(out, fmt.Sprintf("warning: the Hopsworks API key goes to %s over plain http://: anyone on the way can read it; use https://", redactURL(h.URL)))
		}
		if w := OpenToOthers(h.APIKeyFile); w != "" {
			out = append(out, w)
		}
	}
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
		if w := OpenToOthers(f); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// OpenToOthers warns when a file that holds a secret can be read or written by others.
func OpenToOthers(path string) string {
	if path == "" {
		return ""
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o077 == 0 {
		return ""
	}
	return fmt.Sprintf("warning: %s is open to other users (mode %04o): chmod 600 %s", path, fi.Mode().Perm(), path)
}
