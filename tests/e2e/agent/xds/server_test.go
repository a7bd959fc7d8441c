package xds_test

import (
	"context"
	"net"
	"path/filepath"
	"testing"
	"time"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/anypb"

	cilium "github.com/cilium/proxy/go/cilium/api"
	"github.com/cilium/proxy/tests/e2e/agent/xds"
)

type stream = grpc.BidiStreamingClient[discoveryv3.DiscoveryRequest, discoveryv3.DiscoveryResponse]

// serve starts the server on a real Unix socket and returns a connected client.
func serve(t *testing.T) (*xds.Server, *grpc.ClientConn, func()) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "xds.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	server := xds.NewServer(nil)
	g := grpc.NewServer()
	server.Register(g)
	go func() { _ = g.Serve(ln) }()
	conn, err := grpc.NewClient("unix:"+path, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	return server, conn, func() { _ = conn.Close(); g.Stop() }
}

func policies(t *testing.T, version string, ips ...string) *discoveryv3.DiscoveryResponse {
	t.Helper()
	r := &discoveryv3.DiscoveryResponse{VersionInfo: version}
	for _, ip := range ips {
		a, err := anypb.New(&cilium.NetworkPolicy{EndpointIps: []string{ip}, EndpointId: 1})
		if err != nil {
			t.Fatal(err)
		}
		r.Resources = append(r.Resources, a)
	}
	return r
}

func recv(t *testing.T, s stream) *discoveryv3.DiscoveryResponse {
	t.Helper()
	r, err := s.Recv()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func answer(t *testing.T, u *xds.Update) xds.Answer {
	t.Helper()
	select {
	case a := <-u.Done:
		return a
	case <-time.After(5 * time.Second):
		t.Fatal("no answer")
	}
	return xds.Answer{}
}

func TestAckAndNackPerNonce(t *testing.T) {
	server, conn, stop := serve(t)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := cilium.NewNetworkPolicyDiscoveryServiceClient(conn).StreamNetworkPolicies(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(&discoveryv3.DiscoveryRequest{TypeUrl: xds.PolicyTypeURL, Node: &corev3.Node{Id: "t"}}); err != nil {
		t.Fatal(err)
	}
	if err := server.WaitSubscribed(ctx, xds.PolicyTypeURL); err != nil {
		t.Fatal(err)
	}

	first, err := server.Send(policies(t, "1", "10.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	r := recv(t, s)
	if r.GetTypeUrl() != xds.PolicyTypeURL || r.GetVersionInfo() != "1" || r.GetNonce() == "" || len(r.GetResources()) != 1 {
		t.Fatalf("unexpected response %v", r)
	}
	_ = s.Send(&discoveryv3.DiscoveryRequest{TypeUrl: xds.PolicyTypeURL, VersionInfo: "1", ResponseNonce: r.GetNonce()})
	if a := answer(t, first); !a.Ack || a.Took <= 0 {
		t.Fatalf("want an ACK and the time it took, got %+v", a)
	}

	second, _ := server.Send(policies(t, "2", "10.0.0.2"))
	r2 := recv(t, s)
	if r2.GetNonce() == r.GetNonce() {
		t.Fatal("a new response needs a new nonce")
	}
	_ = s.Send(&discoveryv3.DiscoveryRequest{TypeUrl: xds.PolicyTypeURL, VersionInfo: "1",
		ResponseNonce: r2.GetNonce(), ErrorDetail: &status.Status{Code: 3, Message: "bad policy"}})
	if a := answer(t, second); a.Ack || a.Error != "bad policy" {
		t.Fatalf("want a NACK with its detail, got %+v", a)
	}
}

func TestNewStreamGetsTheCurrentStateAndHostsAreApart(t *testing.T) {
	server, conn, stop := serve(t)
	defer stop()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Sent before anyone subscribed: it goes out when a stream of its type subscribes.
	hosts := &discoveryv3.DiscoveryResponse{VersionInfo: "7"}
	a, _ := anypb.New(&cilium.NetworkPolicyHosts{Policy: 42, HostAddresses: []string{"10.0.0.0/8"}})
	hosts.Resources = append(hosts.Resources, a)
	u, err := server.Send(hosts)
	if err != nil {
		t.Fatal(err)
	}
	np, _ := cilium.NewNetworkPolicyDiscoveryServiceClient(conn).StreamNetworkPolicies(ctx)
	_ = np.Send(&discoveryv3.DiscoveryRequest{TypeUrl: xds.PolicyTypeURL})
	nh, _ := cilium.NewNetworkPolicyHostsDiscoveryServiceClient(conn).StreamNetworkPolicyHosts(ctx)
	_ = nh.Send(&discoveryv3.DiscoveryRequest{TypeUrl: xds.HostsTypeURL})
	r := recv(t, nh)
	if r.GetTypeUrl() != xds.HostsTypeURL || r.GetVersionInfo() != "7" {
		t.Fatalf("unexpected response %v", r)
	}
	_ = nh.Send(&discoveryv3.DiscoveryRequest{TypeUrl: xds.HostsTypeURL, VersionInfo: "7", ResponseNonce: r.GetNonce()})
	if got := answer(t, u); !got.Ack {
		t.Fatalf("want an ACK, got %+v", got)
	}
	if err := server.WaitSubscribed(ctx, xds.PolicyTypeURL, xds.HostsTypeURL); err != nil {
		t.Fatal(err)
	}
}

func TestTypeOf(t *testing.T) {
	for _, c := range []struct {
		response *discoveryv3.DiscoveryResponse
		want     string
		fails    bool
	}{
		{&discoveryv3.DiscoveryResponse{}, xds.PolicyTypeURL, false},
		{&discoveryv3.DiscoveryResponse{TypeUrl: xds.HostsTypeURL}, xds.HostsTypeURL, false},
		{&discoveryv3.DiscoveryResponse{Resources: []*anypb.Any{{TypeUrl: xds.HostsTypeURL}}}, xds.HostsTypeURL, false},
		{&discoveryv3.DiscoveryResponse{TypeUrl: "type.googleapis.com/envoy.config.listener.v3.Listener"}, "", true},
	} {
		got, err := xds.TypeOf(c.response)
		if (err != nil) != c.fails || got != c.want {
			t.Errorf("TypeOf(%v) = %q, %v", c.response, got, err)
		}
	}
}
