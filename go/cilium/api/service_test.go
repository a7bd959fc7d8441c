// Hand-written tests: the NPDS and NPHDS services keep the names Envoy and
// Cilium's agent use, and the generated stubs carry a real exchange.

package cilium_test

import (
	"context"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	envoyannotations "github.com/envoyproxy/go-control-plane/envoy/annotations"
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	cilium "github.com/cilium/proxy/go/cilium/api"
)

type method struct {
	grpcName string // the HTTP/2 :path of the call, as gRPC sends it
	constant string // the generated <Service>_<Method>_FullMethodName
	httpPost string // google.api.http post path, or "" for streams
}

func TestServiceNamesAndHTTPPaths(t *testing.T) {
	services := []struct {
		file     protoreflect.FileDescriptor
		path     string
		name     protoreflect.FullName
		resource string // envoy.annotations.resource type
		desc     grpc.ServiceDesc
		methods  map[protoreflect.Name]method
	}{{
		cilium.File_cilium_api_npds_proto, "cilium/api/npds.proto", "cilium.NetworkPolicyDiscoveryService", "cilium.NetworkPolicy",
		cilium.NetworkPolicyDiscoveryService_ServiceDesc,
		map[protoreflect.Name]method{
			"StreamNetworkPolicies": {"/cilium.NetworkPolicyDiscoveryService/StreamNetworkPolicies", cilium.NetworkPolicyDiscoveryService_StreamNetworkPolicies_FullMethodName, ""},
			"DeltaNetworkPolicies":  {"/cilium.NetworkPolicyDiscoveryService/DeltaNetworkPolicies", cilium.NetworkPolicyDiscoveryService_DeltaNetworkPolicies_FullMethodName, ""},
			"FetchNetworkPolicies":  {"/cilium.NetworkPolicyDiscoveryService/FetchNetworkPolicies", cilium.NetworkPolicyDiscoveryService_FetchNetworkPolicies_FullMethodName, "/v3/discovery:network_policies"},
		},
	}, {
		cilium.File_cilium_api_nphds_proto, "cilium/api/nphds.proto", "cilium.NetworkPolicyHostsDiscoveryService", "cilium.NetworkPolicyHosts",
		cilium.NetworkPolicyHostsDiscoveryService_ServiceDesc,
		map[protoreflect.Name]method{
			"StreamNetworkPolicyHosts": {"/cilium.NetworkPolicyHostsDiscoveryService/StreamNetworkPolicyHosts", cilium.NetworkPolicyHostsDiscoveryService_StreamNetworkPolicyHosts_FullMethodName, ""},
			"DeltaNetworkPolicyHosts":  {"/cilium.NetworkPolicyHostsDiscoveryService/DeltaNetworkPolicyHosts", cilium.NetworkPolicyHostsDiscoveryService_DeltaNetworkPolicyHosts_FullMethodName, ""},
			"FetchNetworkPolicyHosts":  {"/cilium.NetworkPolicyHostsDiscoveryService/FetchNetworkPolicyHosts", cilium.NetworkPolicyHostsDiscoveryService_FetchNetworkPolicyHosts_FullMethodName, "/v2/discovery:network_policy_hosts"},
		},
	}}
	for _, s := range services {
		svc := s.file.Services().ByName(s.name.Name())
		if svc == nil || svc.FullName() != s.name {
			t.Fatalf("%s is not in %s", s.name, s.file.Path())
		}
		// The registry key Cilium has always used (IMPORT_DIR in tools/api/generate.py).
		if s.file.Path() != s.path {
			t.Errorf("%s is registered as %s, want %s", s.name, s.file.Path(), s.path)
		}
		if s.desc.ServiceName != string(s.name) {
			t.Errorf("ServiceDesc names %q, want %q", s.desc.ServiceName, s.name)
		}
		resource := proto.GetExtension(svc.Options(), envoyannotations.E_Resource).(*envoyannotations.ResourceAnnotation)
		if resource.GetType() != s.resource {
			t.Errorf("%s: resource type %q, want %q", s.name, resource.GetType(), s.resource)
		}
		if svc.Methods().Len() != len(s.methods) {
			t.Errorf("%s has %d methods, want %d", s.name, svc.Methods().Len(), len(s.methods))
		}
		for name, want := range s.methods {
			m := svc.Methods().ByName(name)
			if m == nil {
				t.Errorf("%s has no method %s", s.name, name)
				continue
			}
			// Envoy finds the method in its descriptor pool by the dotted name; gRPC calls
			// the slashed one.
			if dotted := string(s.name) + "." + string(name); string(m.FullName()) != dotted {
				t.Errorf("method full name %q, want %q", m.FullName(), dotted)
			}
			if want.constant != want.grpcName {
				t.Errorf("%s: generated constant %q, want %q", name, want.constant, want.grpcName)
			}
			rule, _ := proto.GetExtension(m.Options(), annotations.E_Http).(*annotations.HttpRule)
			if got := rule.GetPost(); got != want.httpPost {
				t.Errorf("%s: HTTP POST path %q, want %q", name, got, want.httpPost)
			}
			if want.httpPost != "" && rule.GetBody() != "*" {
				t.Errorf("%s: HTTP body %q, want \"*\"", name, rule.GetBody())
			}
			streaming := m.IsStreamingClient() && m.IsStreamingServer()
			if streaming != (want.httpPost == "") {
				t.Errorf("%s: streaming is %v", name, streaming)
			}
		}
	}
}

// npdsServer streams one policy per request and records the requests (ACKs included).
type npdsServer struct {
	cilium.UnimplementedNetworkPolicyDiscoveryServiceServer
	requests chan *discoveryv3.DiscoveryRequest
	methods  chan string
}

func (s *npdsServer) StreamNetworkPolicies(stream cilium.NetworkPolicyDiscoveryService_StreamNetworkPoliciesServer) error {
	if name, ok := grpc.Method(stream.Context()); ok {
		s.methods <- name
	}
	version := 0
	for {
		request, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		s.requests <- request
		if request.GetResponseNonce() != "" {
			continue // an ACK: nothing new to send
		}
		version++
		resources := []*anypb.Any{}
		for _, ip := range request.GetResourceNames() {
			policy := examplePolicy()
			policy.EndpointIps = []string{ip}
			resource, err := anypb.New(policy)
			if err != nil {
				return err
			}
			resources = append(resources, resource)
		}
		err = stream.Send(&discoveryv3.DiscoveryResponse{
			VersionInfo: strconv.Itoa(version),
			TypeUrl:     request.GetTypeUrl(),
			Nonce:       "nonce-" + strconv.Itoa(version),
			Resources:   resources,
		})
		if err != nil {
			return err
		}
	}
}

func TestInProcessNPDSExchange(t *testing.T) {
	listener := bufconn.Listen(1 << 20)
	server := grpc.NewServer()
	npds := &npdsServer{requests: make(chan *discoveryv3.DiscoveryRequest, 4), methods: make(chan string, 1)}
	cilium.RegisterNetworkPolicyDiscoveryServiceServer(server, npds)
	go func() { _ = server.Serve(listener) }()
	defer server.Stop()

	conn, err := grpc.NewClient("passthrough:///npds",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return listener.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	client := cilium.NewNetworkPolicyDiscoveryServiceClient(conn)
	stream, err := client.StreamNetworkPolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	request := &discoveryv3.DiscoveryRequest{
		Node:          &corev3.Node{Id: "host~10.1.2.3~proxy~cluster.local"},
		TypeUrl:       networkPolicyTypeURL,
		ResourceNames: []string{"10.1.2.3"},
	}
	if err := stream.Send(request); err != nil {
		t.Fatal(err)
	}
	response, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if response.GetTypeUrl() != networkPolicyTypeURL || len(response.GetResources()) != 1 {
		t.Fatalf("unexpected response %v", response)
	}
	var policy cilium.NetworkPolicy
	if err := response.GetResources()[0].UnmarshalTo(&policy); err != nil {
		t.Fatal(err)
	}
	if err := policy.ValidateAll(); err != nil {
		t.Errorf("the policy received does not validate: %v", err)
	}
	want := examplePolicy()
	want.EndpointIps = []string{"10.1.2.3"}
	if !proto.Equal(&policy, want) {
		t.Errorf("received %v, want %v", &policy, want)
	}

	// ACK it, as Envoy does, and close the stream.
	ack := &discoveryv3.DiscoveryRequest{
		TypeUrl: networkPolicyTypeURL, ResourceNames: request.GetResourceNames(),
		VersionInfo: response.GetVersionInfo(), ResponseNonce: response.GetNonce(),
	}
	if err := stream.Send(ack); err != nil {
		t.Fatal(err)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Errorf("after CloseSend: %v, want io.EOF", err)
	}

	if got := <-npds.methods; got != cilium.NetworkPolicyDiscoveryService_StreamNetworkPolicies_FullMethodName {
		t.Errorf("the server saw method %q", got)
	}
	first, second := <-npds.requests, <-npds.requests
	if first.GetNode().GetId() != request.GetNode().GetId() || first.GetTypeUrl() != networkPolicyTypeURL {
		t.Errorf("the server received %v", first)
	}
	if second.GetResponseNonce() != response.GetNonce() || second.GetVersionInfo() != response.GetVersionInfo() {
		t.Errorf("the ACK arrived as %v", second)
	}

	// Methods the server does not implement answer Unimplemented, as generated.
	_, err = client.FetchNetworkPolicies(ctx, request)
	if status.Code(err) != codes.Unimplemented {
		t.Errorf("FetchNetworkPolicies: %v, want Unimplemented", err)
	}
}
