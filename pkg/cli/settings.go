package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/history"
	"github.com/hopsdeploy/kubectl-hopsdeploy/pkg/term"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"
)

// The settings of history and Hopsworks, each written once: its flag, its environment
// variable and its config file key. From weakest to strongest: the config file's default
// block, then its block for the kube context in use, then the environment, then the flags.
// Secrets have no flag (a flag value ends up in shell history and process lists) and no
// config key (the file names a file that holds them).

// section is a block of the config file.
type section string

const (
	openSearch section = "opensearch"
	hopsworksS section = "hopsworks"
)

// kind is how a setting's text is read.
type kind int

const (
	text    kind = iota
	path         // a file name; ~/ is the home directory
	boolean      // true or false
	count        // a number from 1 to 32
)

// binding says whether a setting goes with the host that its block names.
type binding int

const (
	free       binding = iota
	hostName           // reset when a later block names another host
	credential         // reset likewise, and an exported one is not sent to a host that only a kube context's block names
)

// setting is one row of the table.
type setting struct {
	section section
	flag    string // "" when none
	env     string
	key     string // in the config file's section; "" when none
	kind    kind
	binding binding
	usage   string
	field   func(*history.Settings) any // *string, *bool or *int
}

// settings is the table.
var settings = []setting{
	{openSearch, "opensearch-url", "HOPSDEPLOY_OPENSEARCH_URL", "url", text, free,
		"OpenSearch URL, may carry a path", func(s *history.Settings) any { return &s.URL }},
	{openSearch, "opensearch-user", "HOPSDEPLOY_OPENSEARCH_USER", "user", text, credential,
		"OpenSearch user; the password comes from HOPSDEPLOY_OPENSEARCH_PASSWORD or --opensearch-password-file, never a flag", func(s *history.Settings) any { return &s.User }},
	{openSearch, "", "HOPSDEPLOY_OPENSEARCH_PASSWORD", "", text, credential,
		"OpenSearch password", func(s *history.Settings) any { return &s.Password }},
	{openSearch, "opensearch-password-file", "HOPSDEPLOY_OPENSEARCH_PASSWORD_FILE", "passwordFile", path, credential,
		"file holding the OpenSearch password", func(s *history.Settings) any { return &s.PasswordFile }},
	{openSearch, "opensearch-ca", "HOPSDEPLOY_OPENSEARCH_CA", "ca", path, free,
		"PEM file of the CA that signed OpenSearch's certificate", func(s *history.Settings) any { return &s.CAFile }},
	{openSearch, "opensearch-insecure-skip-verify", "HOPSDEPLOY_OPENSEARCH_INSECURE_SKIP_VERIFY", "insecureSkipVerify", boolean, free,
		"do not verify OpenSearch's TLS certificate (insecure; only when you must)", func(s *history.Settings) any { return &s.InsecureSkipVerify }},
	{openSearch, "opensearch-tls-server-name", "HOPSDEPLOY_OPENSEARCH_TLS_SERVER_NAME", "tlsServerName", text, hostName,
		"verify OpenSearch's certificate against this host name instead of the URL's", func(s *history.Settings) any { return &s.TLSServerName }},
	{openSearch, "opensearch-tls-verify-chain-only", "HOPSDEPLOY_OPENSEARCH_TLS_VERIFY_CHAIN_ONLY", "verifyChainOnly", boolean, free,
		"verify OpenSearch's certificate chain but not its host name, as Hopsworks' client does (warned of; prefer --opensearch-tls-server-name)", func(s *history.Settings) any { return &s.VerifyChainOnly }},
	{openSearch, "", "HOPSDEPLOY_OPENSEARCH_TOKEN", "", text, credential,
		"OpenSearch bearer token", func(s *history.Settings) any { return &s.Token }},
	{openSearch, "", "HOPSDEPLOY_OPENSEARCH_TOKEN_FILE", "tokenFile", path, credential,
		"file holding the OpenSearch bearer token", func(s *history.Settings) any { return &s.TokenFile }},
	{openSearch, "", "HOPSDEPLOY_OPENSEARCH_API_KEY", "", text, credential,
		"OpenSearch API key", func(s *history.Settings) any { return &s.APIKey }},
	{openSearch, "index", "HOPSDEPLOY_OPENSEARCH_INDEX", "index", text, free,
		"OpenSearch index pattern (default <project>_serving-*, the project being the namespace with - turned into _)", func(s *history.Settings) any { return &s.Index }},
	{openSearch, "", "HOPSDEPLOY_OPENSEARCH_SLICES", "", count, free,
		"time slices an export reads at once (1: sequential); lower it for a small OpenSearch", func(s *history.Settings) any { return &s.Slices }},
	{hopsworksS, "hopsworks-url", "HOPSWORKS_URL", "url", text, free,
		"Hopsworks, to read history with its OpenSearch token for the project (the API key in HOPSWORKS_API_KEY or --hopsworks-api-key-file)", func(s *history.Settings) any { return &s.Hopsworks.URL }},
	{hopsworksS, "", "HOPSWORKS_API_KEY", "", text, credential,
		"Hopsworks API key", func(s *history.Settings) any { return &s.Hopsworks.APIKey }},
	{hopsworksS, "hopsworks-api-key-file", "HOPSWORKS_API_KEY_FILE", "apiKeyFile", path, credential,
		"file holding the Hopsworks API key (or HOPSWORKS_API_KEY; never a flag value)", func(s *history.Settings) any { return &s.Hopsworks.APIKeyFile }},
	{hopsworksS, "hopsworks-ca", "HOPSWORKS_CA", "ca", path, free,
		"PEM file of the Hopsworks CA: verifies Hopsworks, and OpenSearch unless --opensearch-ca is given", func(s *history.Settings) any { return &s.Hopsworks.CAFile }},
}

// addHistoryFlags registers the table's flags, each usage naming its environment variable.
func addHistoryFlags(f *pflag.FlagSet) {
	for _, st := range settings {
		if st.flag == "" {
			continue
		}
		usage := st.usage + " (env " + st.env + ", or the config file)"
		if st.kind == boolean {
			f.Bool(st.flag, false, usage)
		} else {
			f.String(st.flag, "", usage)
		}
	}
}

// configBlock is one block of the config file: a section's keys and their values.
type configBlock struct {
	OpenSearch map[string]any `json:"opensearch,omitempty"`
	Hopsworks  map[string]any `json:"hopsworks,omitempty"`
}

func (b configBlock) of(sec section) map[string]any {
	if sec == openSearch {
		return b.OpenSearch
	}
	return b.Hopsworks
}

// configFile is ~/.config/hopsdeploy/config.yaml: defaults, and per kube context overrides.
//
//	opensearch: {url: https://os.example.com:9200, user: alice, passwordFile: ~/.config/hopsdeploy/os-pass, ca: /etc/ssl/hops-ca.pem}
//	hopsworks: {url: https://hopsworks.example.com, apiKeyFile: ~/.config/hopsdeploy/api-key, ca: /etc/ssl/hops-ca.pem}
//	contexts:
//	  prod: {opensearch: {url: https://os.prod.example.com}, hopsworks: {url: https://hopsworks.prod.example.com}}
type configFile struct {
	configBlock `json:",inline"`
	Contexts    map[string]configBlock `json:"contexts,omitempty"`
}

// configPath is $HOPSDEPLOY_CONFIG, else $XDG_CONFIG_HOME/hopsdeploy/config.yaml, else
// ~/.config/hopsdeploy/config.yaml.
func configPath() string {
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

// loadConfig reads a config file; a missing file is an empty config.
func loadConfig(path string) (*configFile, error) {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return &configFile{}, nil
	}
	if err != nil {
		return nil, err
	}
	return parseConfig(b, path)
}

// parseConfig parses a config file's content, refusing unknown keys and values of the wrong
// kind: a key that is not in the table (a password, say) is an error.
func parseConfig(b []byte, path string) (*configFile, error) {
	c := &configFile{}
	if err := yaml.UnmarshalStrict(b, c); err != nil {
		return nil, fmt.Errorf("config file %s: %v", path, err)
	}
	blocks := map[string]configBlock{"": c.configBlock}
	for name, b := range c.Contexts {
		blocks["contexts."+name+"."] = b
	}
	for prefix, b := range blocks {
		for _, sec := range []section{openSearch, hopsworksS} {
			for key, v := range b.of(sec) {
				st, ok := lookupKey(sec, key)
				if !ok {
					return nil, fmt.Errorf("config file %s: unknown field %q in %s%s: its known fields are %s", path, key, prefix, sec, strings.Join(keysOf(sec), ", "))
				}
				_, isBool := v.(bool)
				_, isText := v.(string)
				if st.kind == boolean && !isBool || st.kind != boolean && !isText {
					return nil, fmt.Errorf("config file %s: %s%s.%s must be %s", path, prefix, sec, key, map[bool]string{true: "true or false", false: "text"}[st.kind == boolean])
				}
			}
		}
	}
	return c, nil
}

func lookupKey(sec section, key string) (setting, bool) {
	for _, st := range settings {
		if st.section == sec && st.key == key && key != "" {
			return st, true
		}
	}
	return setting{}, false
}

func keysOf(sec section) []string {
	var out []string
	for _, st := range settings {
		if st.section == sec && st.key != "" {
			out = append(out, st.key)
		}
	}
	return out
}

// resolveSettings merges the config file, the environment and the flags (nil: none) by the
// table, then has the OpenSearch and Hopsworks packages read the secret files and check and
// warn of what is unsafe.
func resolveSettings(cfg *configFile, kubeContext string, env func(string) string, flags *pflag.FlagSet) (history.Settings, error) {
	var s history.Settings
	var ctxBlock configBlock
	if cfg != nil {
		applyBlock(&s, cfg.configBlock)
		ctxBlock = cfg.Contexts[kubeContext]
		applyBlock(&s, ctxBlock)
	}
	notes, err := applyEnv(&s, env, ctxBlock, kubeContext)
	if err != nil {
		return s, err
	}
	byFlag := func(name string) bool { return flags != nil && flags.Changed(name) }
	for _, st := range settings {
		if byFlag(st.flag) {
			if err := set(st, &s, flags.Lookup(st.flag).Value.String(), "--"+st.flag); err != nil {
				return s, err
			}
		}
	}
	if err := s.Hopsworks.ReadKey(byFlag("hopsworks-api-key-file")); err != nil {
		return s, err
	}
	if err := s.Complete(byFlag("opensearch-password-file"), byFlag("opensearch-insecure-skip-verify")); err != nil {
		return s, err
	}
	s.Warnings = append(notes, s.Warnings...)
	return s, nil
}

// applyBlock applies one block of the config file. A block that names a host does not keep
// the credentials, nor the host name to check, of the block it overrides.
func applyBlock(s *history.Settings, b configBlock) {
	for _, sec := range []section{openSearch, hopsworksS} {
		vals := b.of(sec)
		if u, _ := vals["url"].(string); u != "" {
			for _, st := range settings {
				if st.section == sec && st.binding != free {
					reset(st, s)
				}
			}
		}
		for _, st := range settings {
			if v, ok := vals[st.key]; ok && st.section == sec && st.key != "" && fmt.Sprint(v) != "" {
				_ = set(st, s, fmt.Sprint(v), "") // parseConfig checked the kinds
			}
		}
	}
}

// applyEnv applies the environment. Exported credentials go where the environment, or the
// config file's default block, says; not to a host that only a kube context's block names (a
// context switched after the export): they are left out there, and a note says so.
func applyEnv(s *history.Settings, env func(string) string, ctxBlock configBlock, kubeContext string) ([]string, error) {
	var notes []string
	for _, st := range settings {
		v := env(st.env)
		if v == "" {
			continue
		}
		ctxURL, _ := ctxBlock.of(st.section)["url"].(string)
		if st.binding == credential && ctxURL != "" && env(urlEnv(st.section)) == "" {
			notes = append(notes, fmt.Sprintf("note: %s is not sent to %s, which only the config file's block for kube context %q names: give that block its own credentials, or set %s too",
				st.env, term.RedactURL(ctxURL), kubeContext, urlEnv(st.section)))
			continue
		}
		if err := set(st, s, v, st.env); err != nil {
			return nil, err
		}
	}
	return notes, nil
}

func urlEnv(sec section) string {
	for _, st := range settings {
		if st.section == sec && st.key == "url" {
			return st.env
		}
	}
	return ""
}

// set gives a setting its value, read as its kind; from names where the value came from.
func set(st setting, s *history.Settings, v, from string) error {
	switch dst := st.field(s).(type) {
	case *string:
		if st.kind == path {
			v = expandHome(v)
		}
		*dst = v
	case *bool:
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("invalid %s %q: use true or false", from, v)
		}
		*dst = b
	case *int:
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 32 {
			return fmt.Errorf("invalid %s %q: use a number from 1 (sequential) to 32", from, v)
		}
		*dst = n
	}
	return nil
}

func reset(st setting, s *history.Settings) {
	switch dst := st.field(s).(type) {
	case *string:
		*dst = ""
	case *bool:
		*dst = false
	case *int:
		*dst = 0
	}
}

func expandHome(p string) string {
	if strings.HasPrefix(p, "~/") {
		home, _ := os.UserHomeDir()
		return filepath.Join(home, p[2:])
	}
	return p
}
