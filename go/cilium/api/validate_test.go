// Hand-written tests: Validate() (protoc-gen-validate) enforces the rules the
// protos declare, in our messages and in Envoy's messages inside them.

package cilium_test

import (
	"strings"
	"testing"

	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"

	cilium "github.com/cilium/proxy/go/cilium/api"
)

type validator interface {
	Validate() error
	ValidateAll() error
}

// withRule is examplePolicy with its first ingress rule replaced.
func withRule(rule *cilium.PortNetworkPolicyRule) *cilium.NetworkPolicy {
	policy := examplePolicy()
	policy.IngressPerPortPolicies[0].Rules[0] = rule
	return policy
}

func TestValidMessagesPass(t *testing.T) {
	valid := []validator{
		examplePolicy(),
		&cilium.NetworkPolicyHosts{Policy: 1, HostAddresses: []string{"10.0.0.1", "10.0.0.2"}},
		&cilium.PortNetworkPolicy{Port: 65535, EndPort: 65535},
		&cilium.BpfMetadata{ProxyId: 65535},
		&cilium.WebSocketClient{Host: "ok"},
		&cilium.HealthCheckEventPipeSink{Path: "/p"},
		&cilium.KafkaNetworkPolicyRule{Topic: strings.Repeat("t", 255), ClientId: "a.b_c-1"},
	}
	for _, msg := range valid {
		if err := msg.ValidateAll(); err != nil {
			t.Errorf("%T: %v", msg, err)
		}
	}
	for _, sni := range []string{"example.com", "*.example.com", "**.example.com", "*", "**", "a*b.example.com", "*foo*.cilium.io", "x_y.example"} {
		if err := withRule(&cilium.PortNetworkPolicyRule{ServerNames: []string{sni}}).Validate(); err != nil {
			t.Errorf("SNI pattern %q rejected: %v", sni, err)
		}
	}
}

func TestValidateRejectsWhatTheRulesForbid(t *testing.T) {
	cases := []struct {
		name string
		msg  validator
		want []string // substrings of the error
	}{
		{"port over 65535", &cilium.PortNetworkPolicy{Port: 65536},
			[]string{"PortNetworkPolicy.Port", "less than or equal to 65535"}},
		{"end port over 65535", &cilium.PortNetworkPolicy{Port: 1, EndPort: 70000},
			[]string{"PortNetworkPolicy.EndPort"}},
		{"no endpoint IP", &cilium.NetworkPolicy{EndpointId: 1},
			[]string{"NetworkPolicy.EndpointIps", "between 1 and 2 items"}},
		{"three endpoint IPs", &cilium.NetworkPolicy{EndpointIps: []string{"10.0.0.1", "10.0.0.2", "f00d::1"}},
			[]string{"NetworkPolicy.EndpointIps", "between 1 and 2 items"}},
		{"an empty endpoint IP", &cilium.NetworkPolicy{EndpointIps: []string{""}},
			[]string{"NetworkPolicy.EndpointIps[0]", "at least 1 rune"}},
		{"a port rule deep inside the policy", func() validator {
			p := examplePolicy()
			p.EgressPerPortPolicies[1].Port = 100000
			return p
		}(), []string{"NetworkPolicy.EgressPerPortPolicies[1]", "PortNetworkPolicy.Port"}},
		{"proxy id over 65535", withRule(&cilium.PortNetworkPolicyRule{ProxyId: 70000}),
			[]string{"PortNetworkPolicyRule.ProxyId"}},
		{"HTTP rules without a rule", withRule(&cilium.PortNetworkPolicyRule{
			L7: &cilium.PortNetworkPolicyRule_HttpRules{HttpRules: &cilium.HttpNetworkPolicyRules{}}}),
			[]string{"HttpNetworkPolicyRules.HttpRules", "at least 1 item"}},
		{"Kafka rules without a rule", withRule(&cilium.PortNetworkPolicyRule{
			L7: &cilium.PortNetworkPolicyRule_KafkaRules{KafkaRules: &cilium.KafkaNetworkPolicyRules{}}}),
			[]string{"KafkaNetworkPolicyRules.KafkaRules"}},
		{"a Kafka topic of 256 characters", &cilium.KafkaNetworkPolicyRule{Topic: strings.Repeat("t", 256)},
			[]string{"KafkaNetworkPolicyRule.Topic", "at most 255"}},
		{"a Kafka topic with a slash", &cilium.KafkaNetworkPolicyRule{Topic: "a/b"},
			[]string{"KafkaNetworkPolicyRule.Topic", "regex"}},
		{"a Kafka client id with a space", &cilium.KafkaNetworkPolicyRule{ClientId: "my app"},
			[]string{"KafkaNetworkPolicyRule.ClientId"}},
		{"a header match without a name", &cilium.HeaderMatch{Value: "v"},
			[]string{"HeaderMatch.Name"}},
		// Envoy's own rules apply inside our messages: a HeaderMatcher needs a name.
		{"an Envoy header matcher without a name", &cilium.HttpNetworkPolicyRule{
			Headers: []*routev3.HeaderMatcher{{HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{
				StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "x"}}}}}},
			[]string{"HttpNetworkPolicyRule.Headers[0]", "HeaderMatcher.Name"}},
		{"duplicate host addresses", &cilium.NetworkPolicyHosts{HostAddresses: []string{"10.0.0.1", "10.0.0.1"}},
			[]string{"NetworkPolicyHosts.HostAddresses[1]", "unique"}},
		{"an empty host address", &cilium.NetworkPolicyHosts{HostAddresses: []string{""}},
			[]string{"NetworkPolicyHosts.HostAddresses[0]"}},
		{"bpf metadata proxy id over 65535", &cilium.BpfMetadata{ProxyId: 65536},
			[]string{"BpfMetadata.ProxyId"}},
		{"a websocket client host of one character", &cilium.WebSocketClient{Host: "h"},
			[]string{"WebSocketClient.Host"}},
		{"a health check sink without a path", &cilium.HealthCheckEventPipeSink{},
			[]string{"HealthCheckEventPipeSink.Path"}},
	}
	for _, c := range cases {
		err := c.msg.Validate()
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		for _, want := range c.want {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("%s: error %q lacks %q", c.name, err, want)
			}
		}
	}
}

func TestSNIPatternsTheRulesReject(t *testing.T) {
	for _, sni := range []string{"", "example..com", ".example.com", "example.com.", "***.example.com", "**a.example.com", "a**b.example.com", "exa mple.com", "ex/ample.com", "example.com:443"} {
		err := withRule(&cilium.PortNetworkPolicyRule{ServerNames: []string{"ok.example.com", sni}}).Validate()
		if err == nil {
			t.Errorf("SNI pattern %q accepted", sni)
		} else if !strings.Contains(err.Error(), "PortNetworkPolicyRule.ServerNames[1]") {
			t.Errorf("SNI pattern %q: error %q does not name ServerNames[1]", sni, err)
		}
	}
}

// ValidateAll reports every violation, not only the first.
func TestValidateAllCollectsEveryViolation(t *testing.T) {
	policy := &cilium.NetworkPolicy{
		IngressPerPortPolicies: []*cilium.PortNetworkPolicy{{Port: 65536, EndPort: 65536}},
	}
	err := policy.ValidateAll()
	multi, ok := err.(cilium.NetworkPolicyMultiError)
	if !ok {
		t.Fatalf("ValidateAll returned %T (%v), want NetworkPolicyMultiError", err, err)
	}
	if len(multi.AllErrors()) != 2 { // endpoint_ips, and the port policy (with two errors inside)
		t.Errorf("got %d errors: %v", len(multi.AllErrors()), err)
	}
	for _, want := range []string{"EndpointIps", "PortNetworkPolicy.Port", "PortNetworkPolicy.EndPort"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}
