// Hand-written tests: proto3 JSON, the form Envoy's config dumps and files use.

package cilium_test

import (
	"strings"
	"testing"

	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	discoveryv3 "github.com/envoyproxy/go-control-plane/envoy/service/discovery/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	cilium "github.com/cilium/proxy/go/cilium/api"
)

func TestMessagesRoundTripThroughJSON(t *testing.T) {
	messages := []proto.Message{
		examplePolicy(),
		exampleResponse(t), // Any resources resolve through the global registry
		&cilium.NetworkPolicyHosts{Policy: 1001, HostAddresses: []string{"10.0.0.0/8"}},
		&cilium.LogEntry{
			EntryType: cilium.EntryType_Response,
			L7:        &cilium.LogEntry_Kafka{Kafka: &cilium.KafkaLogEntry{ApiKey: 3, Topics: []string{"orders"}}},
		},
		&cilium.BpfMetadata{BpfRoot: "/sys/fs/bpf", OriginalSourceSoLingerTime: proto.Uint32(0)},
	}
	for _, msg := range messages {
		name := string(msg.ProtoReflect().Descriptor().FullName())
		text, err := protojson.Marshal(msg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		back := msg.ProtoReflect().Type().New().Interface()
		if err := protojson.Unmarshal(text, back); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, text)
		}
		if !proto.Equal(msg, back) {
			t.Errorf("%s changed on the way through JSON:\n%s", name, text)
		}
	}
}

// A DiscoveryResponse written by hand in proto3 JSON, as a file-based config or
// a config dump shows it: lowerCamelCase names, enums by name, 64-bit integers
// as strings, Any with "@type".
func TestHandWrittenJSONReadsAsExpected(t *testing.T) {
	const text = `{
	  "versionInfo": "3",
	  "typeUrl": "type.googleapis.com/cilium.NetworkPolicy",
	  "resources": [{
	    "@type": "type.googleapis.com/cilium.NetworkPolicy",
	    "endpointIps": ["10.1.2.3"],
	    "endpointId": "4242",
	    "ingressPerPortPolicies": [{
	      "port": 80,
	      "protocol": "UDP",
	      "rules": [{
	        "remotePolicies": [1001],
	        "httpRules": {"httpRules": [{
	          "headers": [{"name": ":method", "stringMatch": {"exact": "GET"}}],
	          "headerMatches": [{"name": "x-token", "mismatchAction": "ADD_ON_MISMATCH", "value": "1"}]
	        }]}
	      }, {
	        "deny": true,
	        "serverNames": ["*.example.com"]
	      }]
	    }]
	  }]
	}`
	var response discoveryv3.DiscoveryResponse
	if err := protojson.Unmarshal([]byte(text), &response); err != nil {
		t.Fatal(err)
	}
	decoded, err := response.GetResources()[0].UnmarshalNew()
	if err != nil {
		t.Fatal(err)
	}
	policy := decoded.(*cilium.NetworkPolicy)
	if policy.GetEndpointId() != 4242 || policy.GetEndpointIps()[0] != "10.1.2.3" {
		t.Errorf("endpoint: %v", policy)
	}
	port := policy.GetIngressPerPortPolicies()[0]
	if port.GetPort() != 80 || port.GetProtocol() != corev3.SocketAddress_UDP {
		t.Errorf("port: %v", port)
	}
	allow, deny := port.GetRules()[0], port.GetRules()[1]
	http := allow.GetHttpRules().GetHttpRules()[0]
	if got := http.GetHeaders()[0].GetStringMatch().GetExact(); got != "GET" {
		t.Errorf("header matcher exact = %q", got)
	}
	if got := http.GetHeaderMatches()[0].GetMismatchAction(); got != cilium.HeaderMatch_ADD_ON_MISMATCH {
		t.Errorf("mismatch action = %v", got)
	}
	if !deny.GetDeny() || deny.GetServerNames()[0] != "*.example.com" {
		t.Errorf("deny rule: %v", deny)
	}
	if err := policy.ValidateAll(); err != nil {
		t.Errorf("a valid policy fails validation: %v", err)
	}

	// And back: the names in the output are the ones read above.
	out, err := protojson.Marshal(policy)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{`"endpointIps"`, `"endpointId":"4242"`, `"ingressPerPortPolicies"`, `"protocol":"UDP"`, `"mismatchAction":"ADD_ON_MISMATCH"`} {
		if !strings.Contains(strings.ReplaceAll(string(out), " ", ""), name) {
			t.Errorf("JSON output lacks %s: %s", name, out)
		}
	}
}

func TestUnknownJSONFieldsAreRejected(t *testing.T) {
	var policy cilium.NetworkPolicy
	err := protojson.Unmarshal([]byte(`{"endpointIps": ["10.1.2.3"], "endpointIPs": ["x"]}`), &policy)
	if err == nil || !strings.Contains(err.Error(), "endpointIPs") {
		t.Errorf("a misspelt field was accepted (err = %v)", err)
	}
}
