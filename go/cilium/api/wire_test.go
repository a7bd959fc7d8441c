// Hand-written tests: the messages keep their field numbers on the wire, survive
// a round trip through it, and travel inside a DiscoveryResponse as Any.

package cilium_test

import (
	"bytes"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	matcherv3 "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"

	cilium "github.com/cilium/proxy/go/cilium/api"
)

const networkPolicyTypeURL = "type.googleapis.com/cilium.NetworkPolicy"

// examplePolicy uses every kind of rule an endpoint policy can hold, with Envoy's
// own matcher types where the protos use them.
func examplePolicy() *cilium.NetworkPolicy {
	return &cilium.NetworkPolicy{
		EndpointIps: []string{"10.1.2.3", "f00d::a0f:0:0:1234"},
		EndpointId:  4242,
		IngressPerPortPolicies: []*cilium.PortNetworkPolicy{{
			Port:     80,
			Protocol: corev3.SocketAddress_TCP,
			Rules: []*cilium.PortNetworkPolicyRule{{
				Precedence:     10,
				RemotePolicies: []uint32{1001, 1002},
				Name:           "web",
				L7: &cilium.PortNetworkPolicyRule_HttpRules{HttpRules: &cilium.HttpNetworkPolicyRules{
					HttpRules: []*cilium.HttpNetworkPolicyRule{{
						Headers: []*routev3.HeaderMatcher{{
							Name: ":path",
							HeaderMatchSpecifier: &routev3.HeaderMatcher_StringMatch{StringMatch: &matcherv3.StringMatcher{
								MatchPattern: &matcherv3.StringMatcher_SafeRegex{SafeRegex: &matcherv3.RegexMatcher{Regex: "/public/.*"}},
							}},
						}},
						HeaderMatches: []*cilium.HeaderMatch{{
							Name:           "x-token",
							ValueSdsSecret: "token-secret",
							MatchAction:    cilium.HeaderMatch_CONTINUE_ON_MATCH,
							MismatchAction: cilium.HeaderMatch_REPLACE_ON_MISMATCH,
						}},
					}},
				}},
			}, {
				Verdict: &cilium.PortNetworkPolicyRule_Deny{Deny: true},
			}},
		}, {
			Port:     9092,
			EndPort:  9093,
			Protocol: corev3.SocketAddress_TCP,
			Rules: []*cilium.PortNetworkPolicyRule{{
				Verdict: &cilium.PortNetworkPolicyRule_PassPrecedence{PassPrecedence: 5},
				L7: &cilium.PortNetworkPolicyRule_KafkaRules{KafkaRules: &cilium.KafkaNetworkPolicyRules{
					KafkaRules: []*cilium.KafkaNetworkPolicyRule{{ApiVersion: -1, ApiKeys: []int32{0, 1}, ClientId: "app-1", Topic: "orders"}},
				}},
			}},
		}},
		EgressPerPortPolicies: []*cilium.PortNetworkPolicy{{
			Port:     443,
			Protocol: corev3.SocketAddress_TCP,
			Rules: []*cilium.PortNetworkPolicyRule{{
				ServerNames:          []string{"*.example.com", "**.cilium.io", "api.example.org"},
				UpstreamTlsContext:   &cilium.TLSContext{ValidationContextSdsSecret: "ca", ServerNames: []string{"api.example.org"}, AlpnProtocols: []string{"h2"}},
				DownstreamTlsContext: &cilium.TLSContext{TlsSdsSecret: "cert"},
			}},
		}, {
			Port:     53,
			Protocol: corev3.SocketAddress_UDP,
			Rules: []*cilium.PortNetworkPolicyRule{{
				L7Proto: "dns",
				L7: &cilium.PortNetworkPolicyRule_L7Rules{L7Rules: &cilium.L7NetworkPolicyRules{
					L7AllowRules: []*cilium.L7NetworkPolicyRule{{Name: "lookups", Rule: map[string]string{"pattern": "*.example.com"}}},
					L7DenyRules: []*cilium.L7NetworkPolicyRule{{
						MetadataRule: []*matcherv3.MetadataMatcher{{
							Filter: "cilium.l7",
							Path:   []*matcherv3.MetadataMatcher_PathSegment{{Segment: &matcherv3.MetadataMatcher_PathSegment_Key{Key: "verdict"}}},
							Value: &matcherv3.ValueMatcher{MatchPattern: &matcherv3.ValueMatcher_StringMatch{
								StringMatch: &matcherv3.StringMatcher{MatchPattern: &matcherv3.StringMatcher_Exact{Exact: "deny"}},
							}},
						}},
					}},
				}},
			}},
		}},
	}
}

func exampleResponse(t *testing.T) *discoveryv3.DiscoveryResponse {
	t.Helper()
	resource, err := anypb.New(examplePolicy())
	if err != nil {
		t.Fatal(err)
	}
	return &discoveryv3.DiscoveryResponse{
		VersionInfo: "7",
		TypeUrl:     networkPolicyTypeURL,
		Nonce:       "n-7",
		Resources:   []*anypb.Any{resource},
	}
}

func TestMessagesRoundTripThroughTheWire(t *testing.T) {
	messages := []proto.Message{
		examplePolicy(),
		&cilium.NetworkPoliciesConfigDump{Networkpolicies: []*cilium.NetworkPolicy{examplePolicy()}},
		&cilium.NetworkPolicyHosts{Policy: 1001, HostAddresses: []string{"10.0.0.0/8", "f00d::/64"}},
		&cilium.LogEntry{
			Timestamp: 1700000000, IsIngress: true, EntryType: cilium.EntryType_Denied,
			PolicyName: "10.1.2.3", ProxyId: 7, SourceSecurityId: 1001, DestinationSecurityId: 4242,
			SourceAddress: "10.1.2.4:41234", DestinationAddress: "10.1.2.3:80",
			L7: &cilium.LogEntry_Http{Http: &cilium.HttpLogEntry{
				HttpProtocol: cilium.HttpProtocol_HTTP11, Method: "GET", Path: "/private", Host: "web", Status: 403,
				Headers: []*cilium.KeyValue{{Key: "x-token", Value: "1"}},
			}},
		},
		&cilium.BpfMetadata{
			BpfRoot: "/sys/fs/bpf", IsIngress: true, ProxyId: 3, OriginalSourceSoLingerTime: proto.Uint32(0),
			PolicyUpdateWarningLimit: durationpb.New(100e6),
			CiliumConfigSource: &corev3.ConfigSource{
				ConfigSourceSpecifier: &corev3.ConfigSource_Ads{Ads: &corev3.AggregatedConfigSource{}},
			},
		},
		&cilium.L7Policy{AccessLogPath: "/var/run/cilium/access_log.sock", Denied_403Body: "denied"},
		&cilium.NetworkFilter{Proxylib: "libcilium.so", ProxylibParams: map[string]string{"access-log": "on"}},
		&cilium.WebSocketClient{Host: "proxy", Path: "/ws", PingWhenIdle: true},
		&cilium.HealthCheckEventPipeSink{Path: "/run/health.pipe"},
		exampleResponse(t),
	}
	for _, msg := range messages {
		name := string(msg.ProtoReflect().Descriptor().FullName())
		data, err := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		back := msg.ProtoReflect().Type().New().Interface()
		if err := proto.Unmarshal(data, back); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !proto.Equal(msg, back) {
			t.Errorf("%s changed on the way through the wire:\n got %v\nwant %v", name, back, msg)
		}
	}
}

// The field numbers are the contract with Envoy and older agents: spot-check the
// encoding of a few, byte by byte.
func TestFieldNumbersOnTheWire(t *testing.T) {
	cases := []struct {
		msg  proto.Message
		want []byte
	}{
		// One field at a time: the order of fields on the wire is the encoder's choice.
		{&cilium.PortNetworkPolicy{Port: 80}, []byte{0x08, 80}},
		{&cilium.PortNetworkPolicy{Protocol: corev3.SocketAddress_UDP}, []byte{0x10, 1}},
		{&cilium.PortNetworkPolicy{EndPort: 81}, []byte{0x20, 81}},
		{&cilium.NetworkPolicy{EndpointIps: []string{"a"}}, []byte{0x0a, 1, 'a'}},
		{&cilium.NetworkPolicy{EndpointId: 2}, []byte{0x10, 2}},
		{&cilium.PortNetworkPolicyRule{Verdict: &cilium.PortNetworkPolicyRule_Deny{Deny: true}}, []byte{0x40, 1}},
		{&cilium.PortNetworkPolicyRule{ProxyId: 3}, []byte{0x48, 3}},
		{&cilium.PortNetworkPolicyRule{Precedence: 4}, []byte{0x50, 4}},
		{&cilium.LogEntry{IsIngress: true}, []byte{0x78, 1}},
		{&cilium.LogEntry{ProxyId: 1}, []byte{0x88, 0x01, 1}},
		{&cilium.LogEntry{L7: &cilium.LogEntry_Http{Http: &cilium.HttpLogEntry{}}}, []byte{0xa2, 0x06, 0}},
		{&cilium.NetworkPolicyHosts{Policy: 5}, []byte{0x08, 5}},
		{&cilium.NetworkPolicyHosts{HostAddresses: []string{"b"}}, []byte{0x12, 1, 'b'}},
	}
	for _, c := range cases {
		got, err := proto.MarshalOptions{Deterministic: true}.Marshal(c.msg)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, c.want) {
			t.Errorf("%T encodes as % x, want % x", c.msg, got, c.want)
		}
	}
}

func TestPolicyTravelsAsAnyInADiscoveryResponse(t *testing.T) {
	data, err := proto.Marshal(exampleResponse(t))
	if err != nil {
		t.Fatal(err)
	}
	var response discoveryv3.DiscoveryResponse
	if err := proto.Unmarshal(data, &response); err != nil {
		t.Fatal(err)
	}
	if got := response.GetResources()[0].GetTypeUrl(); got != networkPolicyTypeURL {
		t.Fatalf("type URL %q, want %q", got, networkPolicyTypeURL)
	}
	// The generated package registers the type: a client needs nothing else to decode it.
	decoded, err := response.GetResources()[0].UnmarshalNew()
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(decoded, examplePolicy()) {
		t.Errorf("decoded %v, want %v", decoded, examplePolicy())
	}
}

// IsLogEntry_L7 (accesslog.go, hand-written) lets other packages hold any l7 choice.
func TestLogEntryL7Alias(t *testing.T) {
	choices := []cilium.IsLogEntry_L7{
		&cilium.LogEntry_Http{Http: &cilium.HttpLogEntry{Status: 200}},
		&cilium.LogEntry_Kafka{Kafka: &cilium.KafkaLogEntry{Topics: []string{"orders"}}},
		&cilium.LogEntry_GenericL7{GenericL7: &cilium.L7LogEntry{Proto: "r2d2", Fields: map[string]string{"cmd": "READ"}}},
	}
	for _, choice := range choices {
		entry := &cilium.LogEntry{L7: choice}
		if entry.GetL7() != choice {
			t.Errorf("%T did not go into LogEntry.l7", choice)
		}
	}
}
