// SPDX-License-Identifier: Apache-2.0

// Command cilium-consumer uses the identifiers Cilium's agent (v1.15 to v1.20)
// takes from github.com/cilium/proxy the way the agent uses them: Kafka rules
// checked and turned into NPDS rules, a NetworkPolicy with every kind of rule
// validated and streamed over NPDS and NPHDS through real gRPC on a Unix
// socket, the access log's entries, and the filters' configurations. It prints
// "consumer: ok" or the first thing that went wrong, and exits non-zero then.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"time"

	cilium "github.com/cilium/proxy/go/cilium/api"
	"github.com/cilium/proxy/pkg/policy/api/kafka"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discovery "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

const (
	policyType = "type.googleapis.com/cilium.NetworkPolicy"
	hostsType  = "type.googleapis.com/cilium.NetworkPolicyHosts"
)

// kafkaRules turns policy rules into NPDS rules, as the agent's xDS server does.
func kafkaRules(rules []kafka.PortRule) (*cilium.KafkaNetworkPolicyRules, error) {
	out := &cilium.KafkaNetworkPolicyRules{}
	for i := range rules {
		if err := rules[i].Sanitize(); err != nil {
			return nil, err
		}
		out.KafkaRules = append(out.KafkaRules, &cilium.KafkaNetworkPolicyRule{
			ApiVersion: rules[i].GetAPIVersion(),
			ApiKeys:    rules[i].GetAPIKeys(),
			ClientId:   rules[i].ClientID,
			Topic:      rules[i].Topic,
		})
	}
	return out, nil
}

func checkKafka() (*cilium.KafkaNetworkPolicyRules, error) {
	var rules []kafka.PortRule
	doc := `[{"role": "consume", "topic": "deathstar-plans"},
	         {"apiKey": "produce", "apiVersion": "3", "clientID": "empire", "topic": "plans"}]`
	if err := json.Unmarshal([]byte(doc), &rules); err != nil {
		return nil, err
	}
	out, err := kafkaRules(rules)
	if err != nil {
		return nil, err
	}
	consume := []int32{kafka.FetchKey, kafka.OffsetsKey, kafka.MetadataKey,
		kafka.OffsetCommitKey, kafka.OffsetFetchKey, kafka.FindCoordinatorKey,
		kafka.JoinGroupKey, kafka.HeartbeatKey, kafka.LeaveGroupKey,
		kafka.SyncgroupKey, kafka.APIVersionsKey}
	if got := out.KafkaRules[0].ApiKeys; !reflect.DeepEqual(got, consume) {
		return nil, fmt.Errorf("consume role keys %v, want %v", got, consume)
	}
	if got := out.KafkaRules[0].ApiVersion; got != -1 {
		return nil, fmt.Errorf("a rule without apiVersion gave version %d", got)
	}
	if got := out.KafkaRules[1]; got.ApiVersion != 3 || !reflect.DeepEqual(got.ApiKeys, []int32{0}) {
		return nil, fmt.Errorf("produce rule became %v", got)
	}
	if !rules[0].Exists(rules) || rules[0].DeepEqual(&rules[1]) || !rules[1].DeepEqual(&rules[1]) {
		return nil, fmt.Errorf("Exists or DeepEqual disagree with the rules")
	}
	bad := kafka.PortRule{Role: "consume", APIKey: "fetch"}
	if bad.Sanitize() == nil {
		return nil, fmt.Errorf("a rule with both a role and an API key passed Sanitize")
	}
	if name := kafka.ApiKeyToString(kafka.SyncgroupKey); name != "syncgroup" {
		return nil, fmt.Errorf("ApiKeyToString(SyncgroupKey) = %q", name)
	}
	return out, nil
}

func networkPolicy(kafkaRules *cilium.KafkaNetworkPolicyRules) *cilium.NetworkPolicy {
	mismatch := []cilium.HeaderMatch_MismatchAction{
		cilium.HeaderMatch_FAIL_ON_MISMATCH, cilium.HeaderMatch_CONTINUE_ON_MISMATCH,
		cilium.HeaderMatch_ADD_ON_MISMATCH, cilium.HeaderMatch_DELETE_ON_MISMATCH,
		cilium.HeaderMatch_REPLACE_ON_MISMATCH,
	}
	var matches []*cilium.HeaderMatch
	for i, action := range mismatch {
		matches = append(matches, &cilium.HeaderMatch{
			Name: fmt.Sprintf("x-header-%d", i), Value: "v", MismatchAction: action,
		})
	}
	tls := &cilium.TLSContext{TrustedCa: "ca", CertificateChain: "cert", PrivateKey: "key",
		ServerNames: []string{"example.com"}}
	return &cilium.NetworkPolicy{
		EndpointIps: []string{"10.1.2.3", "f00d::1"},
		EndpointId:  42,
		IngressPerPortPolicies: []*cilium.PortNetworkPolicy{{
			Port:     80,
			Protocol: core.SocketAddress_TCP,
			Rules: []*cilium.PortNetworkPolicyRule{{
				RemotePolicies: []uint32{1001},
				L7: &cilium.PortNetworkPolicyRule_HttpRules{HttpRules: &cilium.HttpNetworkPolicyRules{
					HttpRules: []*cilium.HttpNetworkPolicyRule{{HeaderMatches: matches}},
				}},
			}, {
				RemotePolicies: []uint32{1002},
				Verdict:        &cilium.PortNetworkPolicyRule_Deny{Deny: true},
			}, {
				RemotePolicies: []uint32{1003},
				Verdict:        &cilium.PortNetworkPolicyRule_PassPrecedence{PassPrecedence: 0x700},
			}},
		}, {
			Port:     9092,
			Protocol: core.SocketAddress_TCP,
			Rules: []*cilium.PortNetworkPolicyRule{{
				L7: &cilium.PortNetworkPolicyRule_KafkaRules{KafkaRules: kafkaRules},
			}},
		}},
		EgressPerPortPolicies: []*cilium.PortNetworkPolicy{{
			Port:     443,
			Protocol: core.SocketAddress_TCP,
			Rules: []*cilium.PortNetworkPolicyRule{{
				DownstreamTlsContext: tls,
				UpstreamTlsContext:   tls,
				L7Proto:              "envoy.filters.network.testparser",
				L7: &cilium.PortNetworkPolicyRule_L7Rules{L7Rules: &cilium.L7NetworkPolicyRules{
					L7AllowRules: []*cilium.L7NetworkPolicyRule{{Name: "allow", Rule: map[string]string{"cmd": "READ"}}},
				}},
			}},
		}},
	}
}

// npds serves one policy to whoever asks, as the agent does.
type npds struct {
	cilium.UnimplementedNetworkPolicyDiscoveryServiceServer
	policy *cilium.NetworkPolicy
}

func (s *npds) StreamNetworkPolicies(stream cilium.NetworkPolicyDiscoveryService_StreamNetworkPoliciesServer) error {
	req, err := stream.Recv()
	if err != nil {
		return err
	}
	if req.TypeUrl != policyType {
		return fmt.Errorf("NPDS request for %q", req.TypeUrl)
	}
	resource, err := anypb.New(s.policy)
	if err != nil {
		return err
	}
	return stream.Send(&discovery.DiscoveryResponse{
		VersionInfo: "1", TypeUrl: policyType, Resources: []*anypb.Any{resource}, Nonce: "1",
	})
}

type nphds struct {
	cilium.UnimplementedNetworkPolicyHostsDiscoveryServiceServer
}

func (nphds) StreamNetworkPolicyHosts(stream cilium.NetworkPolicyHostsDiscoveryService_StreamNetworkPolicyHostsServer) error {
	if _, err := stream.Recv(); err != nil {
		return err
	}
	hosts := &cilium.NetworkPolicyHosts{Policy: 1001, HostAddresses: []string{"10.1.0.0/16"}}
	resource, err := anypb.New(hosts)
	if err != nil {
		return err
	}
	return stream.Send(&discovery.DiscoveryResponse{VersionInfo: "1", TypeUrl: hostsType,
		Resources: []*anypb.Any{resource}})
}

// exchange serves the policy over a Unix socket and fetches it back as Envoy would.
func exchange(policy *cilium.NetworkPolicy) error {
	dir, err := os.MkdirTemp("", "cilium-consumer-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	socket := filepath.Join(dir, "xds.sock")
	listener, err := net.Listen("unix", socket)
	if err != nil {
		return err
	}
	server := grpc.NewServer()
	cilium.RegisterNetworkPolicyDiscoveryServiceServer(server, &npds{policy: policy})
	cilium.RegisterNetworkPolicyHostsDiscoveryServiceServer(server, nphds{})
	go server.Serve(listener)
	defer server.Stop()

	conn, err := grpc.NewClient("unix://"+socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return err
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	stream, err := cilium.NewNetworkPolicyDiscoveryServiceClient(conn).StreamNetworkPolicies(ctx)
	if err != nil {
		return err
	}
	if err := stream.Send(&discovery.DiscoveryRequest{TypeUrl: policyType}); err != nil {
		return err
	}
	resp, err := stream.Recv()
	if err != nil {
		return err
	}
	got := &cilium.NetworkPolicy{}
	if len(resp.Resources) != 1 || resp.Resources[0].UnmarshalTo(got) != nil {
		return fmt.Errorf("NPDS answered %v", resp)
	}
	if !proto.Equal(got, policy) {
		return fmt.Errorf("NPDS delivered %v, sent %v", got, policy)
	}
	return got.Validate()
}

func accessLog() error {
	entries := []*cilium.LogEntry{{
		EntryType: cilium.EntryType_Request,
		L7: &cilium.LogEntry_Kafka{Kafka: &cilium.KafkaLogEntry{
			ApiKey: kafka.FetchKey, ApiVersion: 11, Topics: []string{"deathstar-plans"},
		}},
	}, {
		EntryType: cilium.EntryType_Denied,
		L7: &cilium.LogEntry_Http{Http: &cilium.HttpLogEntry{
			HttpProtocol: cilium.HttpProtocol_HTTP11, Method: "GET", Path: "/",
			Headers: []*cilium.KeyValue{{Key: "x-request-id", Value: "1"}},
		}},
	}, {
		EntryType: cilium.EntryType_Response,
		L7:        &cilium.LogEntry_Http{Http: &cilium.HttpLogEntry{HttpProtocol: cilium.HttpProtocol_HTTP2, Status: 200}},
	}}
	for _, protocol := range []cilium.HttpProtocol{cilium.HttpProtocol_HTTP10, cilium.HttpProtocol_HTTP11, cilium.HttpProtocol_HTTP2} {
		if protocol.String() == "" {
			return fmt.Errorf("HTTP protocol %d has no name", protocol)
		}
	}
	for _, entry := range entries {
		data, err := proto.Marshal(entry)
		if err != nil {
			return err
		}
		back := &cilium.LogEntry{}
		if err := proto.Unmarshal(data, back); err != nil || !proto.Equal(back, entry) {
			return fmt.Errorf("log entry did not survive the wire: %v", err)
		}
	}
	if name := kafka.ApiKeyToString(int16(entries[0].GetKafka().ApiKey)); name != "fetch" {
		return fmt.Errorf("Kafka API key named %q", name)
	}
	return nil
}

func filterConfigs() error {
	configs := []interface{ Validate() error }{
		&cilium.BpfMetadata{BpfRoot: "/sys/fs/bpf", IsIngress: true},
		&cilium.NetworkFilter{AccessLogPath: "/var/run/cilium/access_log.sock"},
		&cilium.L7Policy{AccessLogPath: "/var/run/cilium/access_log.sock", Denied_403Body: "denied"},
		&cilium.DownstreamTlsWrapperContext{},
		&cilium.UpstreamTlsWrapperContext{},
		&cilium.HeaderMatch{Name: "x", MismatchAction: cilium.HeaderMatch_MismatchAction(0)},
		&cilium.HttpNetworkPolicyRule{},
		&cilium.L7NetworkPolicyRule{},
	}
	for _, config := range configs {
		if err := config.Validate(); err != nil {
			return err
		}
	}
	if (&cilium.PortNetworkPolicy{Port: 70000}).Validate() == nil {
		return fmt.Errorf("port 70000 passed Validate")
	}
	return nil
}

func run() error {
	rules, err := checkKafka()
	if err != nil {
		return fmt.Errorf("kafka: %w", err)
	}
	policy := networkPolicy(rules)
	if err := policy.Validate(); err != nil {
		return fmt.Errorf("policy: %w", err)
	}
	if err := exchange(policy); err != nil {
		return fmt.Errorf("NPDS: %w", err)
	}
	if err := accessLog(); err != nil {
		return fmt.Errorf("access log: %w", err)
	}
	return filterConfigs()
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "consumer:", err)
		os.Exit(1)
	}
	fmt.Println("consumer: ok")
}
