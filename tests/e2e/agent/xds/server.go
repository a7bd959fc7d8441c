// Package xds is the stand-in agent's side of NPDS and NPHDS: a state-of-the-world xDS
// server that sends what it is told and reports what Envoy answered to each response.
package xds

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strconv"
	"sync"
	"time"

	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	cilium "github.com/cilium/proxy/go/cilium/api"
)

// The resource types the two services carry.
const (
	PolicyTypeURL = "type.googleapis.com/cilium.NetworkPolicy"
	HostsTypeURL  = "type.googleapis.com/cilium.NetworkPolicyHosts"
)

// Answer is what Envoy said about one update: an ACK, or a NACK with its error_detail, and
// how long it took from the moment the response was handed to gRPC to go out (marshalling
// included) until the answer arrived.
type Answer struct {
	Ack   bool
	Error string
	Took  time.Duration
}

// Event reports a step of a stream, for the harness's diagnostics and tests.
type Event struct {
	Stream   int    `json:"stream"`
	TypeURL  string `json:"type_url"`
	Kind     string `json:"kind"` // "open", "request" or "closed"
	Version  string `json:"version_info,omitempty"`
	Nonce    string `json:"response_nonce,omitempty"`
	Error    string `json:"error_detail,omitempty"`
	Resource int    `json:"resource_names,omitempty"`
}

// Update is one response the harness asked for; Done yields Envoy's first answer to it.
type Update struct {
	Done     <-chan Answer
	done     chan Answer
	answered bool
	response *discoveryv3.DiscoveryResponse
	sent     map[string]time.Time // nonce -> when it went to gRPC's Send
}

type stream struct {
	id         int
	typeURL    string
	subscribed bool // Envoy sent its first request: responses may go out
	out        chan *discoveryv3.DiscoveryResponse
}

// Server implements both services on one gRPC server.
type Server struct {
	cilium.UnimplementedNetworkPolicyDiscoveryServiceServer
	cilium.UnimplementedNetworkPolicyHostsDiscoveryServiceServer

	mu       sync.Mutex
	nonce    int
	streamID int
	current  map[string]*Update // the last update of each type, sent to new streams
	pending  map[string]*Update // nonce -> the update it carried
	streams  map[int]*stream
	changed  chan struct{} // closed and replaced whenever subscriptions change
	onEvent  func(Event)
}

// NewServer returns a server with nothing to serve; onEvent (may be nil) sees every event.
func NewServer(onEvent func(Event)) *Server {
	if onEvent == nil {
		onEvent = func(Event) {}
	}
	return &Server{
		current: map[string]*Update{},
		pending: map[string]*Update{},
		streams: map[int]*stream{},
		changed: make(chan struct{}),
		onEvent: onEvent,
	}
}

// Register adds both services to a gRPC server.
func (s *Server) Register(g *grpc.Server) {
	cilium.RegisterNetworkPolicyDiscoveryServiceServer(g, s)
	cilium.RegisterNetworkPolicyHostsDiscoveryServiceServer(g, s)
}

// TypeOf says which service a response belongs to: its type_url, else its resources'
// type, else (an empty response without type_url) NPDS, as `nox -s policy -- eval` decides.
func TypeOf(r *discoveryv3.DiscoveryResponse) (string, error) {
	typeURL := r.GetTypeUrl()
	if typeURL == "" && len(r.GetResources()) > 0 {
		typeURL = r.GetResources()[0].GetTypeUrl()
	}
	switch typeURL {
	case "":
		return PolicyTypeURL, nil
	case PolicyTypeURL, HostsTypeURL:
		return typeURL, nil
	}
	return "", fmt.Errorf("type_url %q is neither %s nor %s", typeURL, PolicyTypeURL, HostsTypeURL)
}

// Send makes r the current state of its type and sends it on every subscribed stream of
// that type (and later to streams that subscribe before the next update).
func (s *Server) Send(r *discoveryv3.DiscoveryResponse) (*Update, error) {
	typeURL, err := TypeOf(r)
	if err != nil {
		return nil, err
	}
	response := proto.Clone(r).(*discoveryv3.DiscoveryResponse)
	response.TypeUrl = typeURL
	done := make(chan Answer, 1)
	u := &Update{Done: done, done: done, response: response, sent: map[string]time.Time{}}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.current[typeURL] = u
	for _, st := range s.streams {
		if st.typeURL == typeURL && st.subscribed {
			s.sendLocked(st, u)
		}
	}
	return u, nil
}

func (s *Server) sendLocked(st *stream, u *Update) {
	s.nonce++
	nonce := strconv.Itoa(s.nonce)
	s.pending[nonce] = u
	out := proto.Clone(u.response).(*discoveryv3.DiscoveryResponse)
	out.Nonce = nonce
	select {
	case st.out <- out:
	default: // the stream is not reading: it is closing
	}
}

// Subscribed reports whether every type in typeURLs has a stream Envoy subscribed on,
// and a channel that is closed at the next change.
func (s *Server) Subscribed(typeURLs ...string) (bool, <-chan struct{}) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, typeURL := range typeURLs {
		found := false
		for _, st := range s.streams {
			found = found || (st.typeURL == typeURL && st.subscribed)
		}
		if !found {
			return false, s.changed
		}
	}
	return true, s.changed
}

// WaitSubscribed blocks until every type has a subscribed stream, or ctx ends.
func (s *Server) WaitSubscribed(ctx context.Context, typeURLs ...string) error {
	for {
		ok, changed := s.Subscribed(typeURLs...)
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// StreamNetworkPolicies serves NPDS.
func (s *Server) StreamNetworkPolicies(
	st grpc.BidiStreamingServer[discoveryv3.DiscoveryRequest, discoveryv3.DiscoveryResponse],
) error {
	return s.serve(PolicyTypeURL, st)
}

// StreamNetworkPolicyHosts serves NPHDS.
func (s *Server) StreamNetworkPolicyHosts(
	st grpc.BidiStreamingServer[discoveryv3.DiscoveryRequest, discoveryv3.DiscoveryResponse],
) error {
	return s.serve(HostsTypeURL, st)
}

func (s *Server) serve(
	typeURL string,
	st grpc.BidiStreamingServer[discoveryv3.DiscoveryRequest, discoveryv3.DiscoveryResponse],
) error {
	s.mu.Lock()
	s.streamID++
	me := &stream{id: s.streamID, typeURL: typeURL, out: make(chan *discoveryv3.DiscoveryResponse, 64)}
	s.streams[me.id] = me
	s.mu.Unlock()
	s.onEvent(Event{Stream: me.id, TypeURL: typeURL, Kind: "open"})
	defer func() {
		s.mu.Lock()
		delete(s.streams, me.id)
		s.notifyLocked()
		s.mu.Unlock()
		s.onEvent(Event{Stream: me.id, TypeURL: typeURL, Kind: "closed"})
	}()

	requests := make(chan *discoveryv3.DiscoveryRequest)
	failed := make(chan error, 1)
	go func() {
		for {
			req, err := st.Recv()
			if err != nil {
				failed <- err
				return
			}
			select {
			case requests <- req:
			case <-st.Context().Done():
				return
			}
		}
	}()
	for {
		select {
		case req := <-requests:
			s.received(me, req)
		case out := <-me.out:
			// Encoded first, so an update's time (Send to Envoy's answer) is Envoy's and the
			// wire's, not the agent's own marshalling of thousands of resources.
			encoded := &grpc.PreparedMsg{}
			if err := encoded.Encode(st, out); err != nil {
				return err
			}
			// And the garbage of decoding, copying and encoding it collected now: a collection
			// that ran while Envoy parses would take a CPU from it (two on the machines the
			// bench is meant for) and count in Envoy's time.
			runtime.GC()
			s.mu.Lock()
			if u := s.pending[out.GetNonce()]; u != nil {
				u.sent[out.GetNonce()] = time.Now()
			}
			s.mu.Unlock()
			if err := st.SendMsg(encoded); err != nil {
				return err
			}
		case err := <-failed:
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		case <-st.Context().Done():
			return st.Context().Err()
		}
	}
}

// received handles one DiscoveryRequest: the first subscribes the stream (and gets the
// current state, if any); one naming a nonce answers the update that nonce carried.
func (s *Server) received(me *stream, req *discoveryv3.DiscoveryRequest) {
	event := Event{
		Stream:   me.id,
		TypeURL:  me.typeURL,
		Kind:     "request",
		Version:  req.GetVersionInfo(),
		Nonce:    req.GetResponseNonce(),
		Error:    req.GetErrorDetail().GetMessage(),
		Resource: len(req.GetResourceNames()),
	}
	// Seen before anyone learns what it caused (a subscription, an answered update), so a
	// reader of the events finds this request there once it has that news.
	s.onEvent(event)
	s.mu.Lock()
	if !me.subscribed {
		me.subscribed = true
		if u := s.current[me.typeURL]; u != nil {
			s.sendLocked(me, u)
		}
		s.notifyLocked()
	}
	if u := s.pending[req.GetResponseNonce()]; u != nil {
		delete(s.pending, req.GetResponseNonce())
		if !u.answered {
			u.answered = true
			var took time.Duration
			if sent, ok := u.sent[req.GetResponseNonce()]; ok {
				took = time.Since(sent)
			}
			if req.GetErrorDetail() != nil {
				u.done <- Answer{Ack: false, Error: req.GetErrorDetail().GetMessage(), Took: took}
			} else {
				u.done <- Answer{Ack: true, Took: took}
			}
		}
	}
	s.mu.Unlock()
}
